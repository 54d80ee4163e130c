"""Waiting for calls: threads block on a condition of the journal's lock, coroutines on an event of
their own loop. The journal wakes them after each write; each waiter then looks at the new calls only
(`WaitProgress` remembers how far it has looked)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import TYPE_CHECKING

from mockpipe.journal.queries import WaitResult

if TYPE_CHECKING:
    from collections.abc import Callable

    from mockpipe.journal.backlog import Backlog
    from mockpipe.journal.queries import CallQuery
    from mockpipe.journal.records import Call

DEFAULT_WAIT_TIMEOUT = 5.0
SLICE_PAUSE = 0.001  # seconds between the slices of a long journal a long-poll looks at
CATCH_UP_SLICE = 0.02  # seconds of backlog a long-poll processes before letting its loop serve others


class WaitProgress:
    """What a pending wait has found so far: how many calls matched, and the first `page` of them
    (every one when `page` is None). A wait for a billion calls keeps a page, not the journal."""

    __slots__ = ("clears", "found", "matched", "page", "query", "seen_up_to")

    def __init__(self, query: CallQuery, page: int | None = None) -> None:
        self.query = query
        self.page = page
        self.found: list[Call] = []
        self.matched = 0
        self.seen_up_to = 0  # the highest call id looked at
        self.clears = -1  # the journal's clear count when it last looked (-1: never looked)

    def start_over(self, clears: int) -> None:
        self.found.clear()
        self.matched = 0
        self.seen_up_to = 0
        self.clears = clears

    def result(self, count: int) -> WaitResult:
        return WaitResult(self.found, self.matched < count)


class Waiters:
    """The waits in progress on one journal, woken by `wake` (called with the journal's lock held).

    A wait brings the journal's backlog up to date before each look (without the lock: processing
    records), so what was answered before it looks is what it sees."""

    def __init__(self, lock: threading.Lock, backlog: Backlog) -> None:
        self._lock = lock
        self._backlog = backlog
        self._changed = threading.Condition(lock)
        self._async: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._sync = 0  # threads blocked in `wait`: only they need the condition notified
        self._released = 0  # bumped by release(): waits that started before it end
        self.waiting = 0  # waits in progress, threads and coroutines (a plain attribute: read per request)

    @property
    def releases(self) -> int:
        return self._released

    @property
    def pending_async(self) -> int:
        return len(self._async)

    def wake(self) -> None:
        """Let every wait look again (the lock is held)."""
        if self._sync:
            self._changed.notify_all()
        for loop, event in self._async:
            loop.call_soon_threadsafe(event.set)

    def release(self) -> None:
        """End every pending asynchronous wait now, with what it found (the lock is held)."""
        self._released += 1
        for loop, event in self._async:
            loop.call_soon_threadsafe(event.set)

    def wait(self, done: Callable[[], bool], timeout: float) -> None:
        """Block until `done()` (called with the lock held) is true or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        backlog = self._backlog
        with self._changed:
            self._sync += 1
            self.waiting += 1
            try:
                while True:
                    if not backlog.caught_up:  # processed without the lock: processing records
                        self._lock.release()
                        try:
                            backlog.catch_up()
                        finally:
                            self._lock.acquire()
                    if done():
                        return
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    if not backlog.caught_up:  # answered meanwhile (checked under the lock: a later one wakes us)
                        continue
                    self._changed.wait(remaining)
            finally:
                self._sync -= 1
                self.waiting -= 1

    async def wait_async(self, look: Callable[[], tuple[bool, bool]], timeout: float) -> None:
        """`wait` for an event loop: suspends instead of blocking the thread; ends early on `release`.

        `look()` (called with the lock held) says (done, caught up): a look that is not caught up
        yet (a long journal, looked at a slice at a time) is taken again at once, after letting the
        loop serve others, and before any time-out: the answer must cover every call."""
        deadline = time.monotonic() + timeout
        backlog = self._backlog
        answered_before = backlog.received  # in the answer whatever the timeout; what comes later, in time only
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._async.add(waiter)
            self.waiting += 1
            released = self._released
        try:
            while True:
                waiter[1].clear()  # before looking, so that a call landing meanwhile sets it again
                processed = backlog.catch_up(CATCH_UP_SLICE)  # a slice: the loop serves others between
                # Whether the requests answered before the wait are in, taken before the look that relies on it.
                settled = processed or (backlog.processed >= answered_before and not backlog.busy)
                with self._lock:
                    finished, caught_up = look()
                if finished or self._released > released:
                    return
                if not caught_up:
                    # The rest of the journal in a moment, whatever the time: the answer covers every call
                    # (a bare yield would let ten long-polls take turns and leave a request a turn in ten).
                    await asyncio.sleep(SLICE_PAUSE)
                    continue
                remaining = deadline - time.monotonic()
                if not processed:
                    # More of the backlog first (ours to process, or another thread's processing it).
                    if remaining > 0 or not settled:
                        await asyncio.sleep(0)
                        continue
                    return
                if remaining <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter[1].wait(), remaining)
        finally:
            with self._lock:
                self._async.discard(waiter)
                self.waiting -= 1
