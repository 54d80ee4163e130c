"""The drainer: leaves answered requests to the journal's backlog (`defer`), and processes the backlog
on the event loop when nobody has asked yet.

Reads process the backlog themselves (`mockpipe.journal.backlog`); the drainer keeps it short in
between, so that a read seldom has much to do: once the server has been quiet for `QUIET` seconds
(no request answered meanwhile), or at once while somebody follows calls as they come (the UI's
live view, a forwarder: `Backlog.followers`). It works `SLICE` seconds at a time, letting the loop
answer requests between two slices, and gives way to traffic: a request answered meanwhile puts it
back to waiting for quiet.

A journal bounded to `max_calls` keeps its backlog bounded too: past `max_calls` waiting requests,
each new one processes a slice before it is answered.
"""

from __future__ import annotations

import asyncio
from time import time
from typing import TYPE_CHECKING

from mockpipe.emulator.slices import SLICE_ITEMS

if TYPE_CHECKING:
    from mockpipe.emulator.config import ServerConfig
    from mockpipe.emulator.faults import Faults
    from mockpipe.journal.backlog import Backlog
    from mockpipe.journal.journal import Journal

STRICT_VALUES = (b"1", b"true", b"yes")  # the X-Strict-Mode values that ask for it
# A body this short holds at most SLICE_ITEMS calls (`{}` and a comma each); a longer one has its `{` counted.
_ONE_SLICE_BYTES = 3 * SLICE_ITEMS

# What processing a request answered earlier needs of its headers, in this order (`Drainer.defer`).
KEPT_HEADERS = (b"authorization", b"content-encoding", b"user-agent", b"x-retry-count")
_HEADER_SETS: dict[tuple[bytes | None, ...], tuple[bytes | None, ...]] = {}
_HEADER_SETS_KEPT = 4096

QUIET = 0.05  # seconds without a request before the backlog is processed
SLICE = 0.005  # seconds of processing between two turns of the event loop (checked after each request)


class Drainer:
    """Keeps one journal's backlog short (see the module)."""

    def __init__(self, journal: Journal, faults: Faults, config: ServerConfig, *, bound: int | None = None) -> None:
        self.journal = journal
        self.backlog = journal.backlog
        self.faults = faults
        # A server answering every request 200 whatever it holds may leave them to the backlog.
        self.permissive = not (config.strict or config.reject_malformed)
        self.when_idle = config.process_when_idle  # False: only reads process (the benchmark: no work meanwhile)
        self.bound = bound
        self._armed = False  # a turn of the drainer is scheduled

    def takes(self, headers: dict[bytes, bytes], body: bytes) -> bool:
        """Whether a tracking POST's answer is 200 `{}` whatever it holds, and it may be processed later:
        permissive, no fault rule set, no durable listener, no change being made (`Backlog.pauses`),
        not compressed (its calls are not counted here), and at most one slice of calls (a longer batch is
        taken before its answer, a slice at a time, the loop serving others between)."""
        return (
            self.permissive
            and not self.faults.active
            and headers.get(b"x-strict-mode", b"").strip().lower() not in STRICT_VALUES
            and not self.journal.durable
            and not self.backlog.pauses
            and b"content-encoding" not in headers
            and (len(body) <= _ONE_SLICE_BYTES or body.count(b"{") <= SLICE_ITEMS)
        )

    def defer(self, path: str, headers: dict[bytes, bytes], body: bytes, overflow: bool) -> None:
        """Leave an answered request to the backlog (on the event loop), with what its processing needs
        and nothing else: the backlog's memory is the requests' bodies."""
        get = headers.get
        kept = (get(b"authorization"), get(b"content-encoding"), get(b"user-agent"), get(b"x-retry-count"))
        shared = _HEADER_SETS.get(kept)  # a client sends the same ones every time: kept once
        if shared is None:
            if len(_HEADER_SETS) >= _HEADER_SETS_KEPT:
                _HEADER_SETS.clear()
            shared = _HEADER_SETS[kept] = kept
        backlog = self.backlog
        backlog.queue.append((path, shared, body, overflow, time()))  # `Backlog.add`, inline: every request
        backlog.received += 1
        if self.journal.has_waiters:
            self.journal.wake_waiters()
        self.poke()

    def poke(self) -> None:
        """A request was left to the backlog (on the event loop)."""
        backlog = self.backlog
        if self.bound is not None and len(backlog.queue) > self.bound:
            backlog.catch_up(SLICE)
        if self._armed or not (self.when_idle or backlog.followers):
            return
        self._armed = True
        loop = asyncio.get_running_loop()
        if backlog.followers:
            loop.call_soon(self._turn, -1)
        else:
            loop.call_later(QUIET, self._turn, backlog.received)

    def _turn(self, received: int) -> None:
        """Process a slice if nothing arrived since `received` was read (-1: whatever arrived)."""
        self._armed = False
        backlog = self.backlog
        if backlog.caught_up:
            return
        if (received >= 0 and backlog.received != received and not backlog.followers) or backlog.busy:
            self._arm_later()  # still receiving, or a reader is processing: later
            return
        if backlog.catch_up(SLICE):
            return
        self._armed = True
        asyncio.get_running_loop().call_soon(self._turn, -1 if backlog.followers else backlog.received)

    def _arm_later(self) -> None:
        self._armed = True
        asyncio.get_running_loop().call_later(QUIET, self._turn, self.backlog.received)


async def caught_up(backlog: Backlog) -> None:
    """Process the requests answered so far from the event loop, a slice at a time, answering requests
    between two (those answered meanwhile are left to the next read)."""
    upto = backlog.received
    while not backlog.catch_up(READ_SLICE, upto=upto):
        await asyncio.sleep(0)


READ_SLICE = 0.02  # seconds of processing per turn of the loop for a reader that waits for the whole backlog
