"""Fault injection: make the tracking endpoints fail on purpose, to test a client's retries and back-off.

A fault rule, per write key (or for every key), answers the requests it takes in one of three ways:

- `status`: answer this status (with an optional `Retry-After` and body) instead of taking the calls;
- `close`: close the connection without any answer (the client sees a network error);
- `delay`: answer as usual, `delay_ms` later. A delay also combines with the two others.

A rule takes the next `count` requests, or every request (`count=None`), or a `fraction` of them drawn
at random (seedable), with or without a `count` cap. Rules are tried in the order they were added:
the first one with a status or a close answers, and every delay that fires is added up.

A request taken by a status or close rule is journaled as an attempt (its `fault` field says which
rule, `status` is 0 when the connection was closed) and its calls are not taken; the messageIds it
carried are counted into `Journal.attempts()` of the call when a resend finally comes through. A
status rule answers any status asked for, 2xx included (to see how a client takes a 202): the calls
of such a request are still not taken. Error bodies have the `code` and `message` the SDKs read.

Faults are consulted once the request's write key is known and accepted, after its body was read
(the browser bundles put the key in the body); preflights and unreadable requests are never faulted.

This module holds the rules and their lookup on the hot path (no web code): `fault_specs` checks a
rule's options, `fault_delivery` answers a request as its fault says, `faults_api` is the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from mockpipe.emulator.error_body import tracking_error
from mockpipe.emulator.fault_specs import (
    MAX_DELAY_MS as MAX_DELAY_MS,
    MAX_RETRY_AFTER as MAX_RETRY_AFTER,
    FaultError as FaultError,
    RuleSpec,
    check_rule,
    rule_from_json,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mockpipe.types import JSONObject


class FaultHit(NamedTuple):
    """What the rules that fired decided for one request."""

    status: int | None  # None: answered as usual (only delays fired), or closed
    close: bool
    retry_after: str | None
    delay: float  # seconds
    body: bytes | None  # None: the default body for the status
    content_type: bytes
    label: str  # for the journal's `fault` field: "fault 3: status 429, Retry-After 1"
    pauses: Pauses | None = None  # where the delay is waited out (ended early by a shutdown)

    @property
    def answers(self) -> bool:
        """Whether the fault answers instead of the emulator (a status or a close, not only a delay)."""
        return self.status is not None or self.close

    async def pause(self) -> None:
        """Wait out the delay, or less if the server stops meanwhile."""
        if self.pauses is None:
            await asyncio.sleep(self.delay)
        else:
            await self.pauses.sleep(self.delay)


class Pauses:
    """The delays being waited out on a server's event loop, which `release` ends at once.

    A server that stops cancels what still runs after a short grace period: a request held by a
    delay would get a 500 and a CancelledError traceback. Released, it is answered as it would have
    been, only sooner. Used from the event loop only (no lock).
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self._released: asyncio.AbstractEventLoop | None = None  # the loop that is stopping

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if self._released is loop:  # stopping: no new delay (a restart runs a new loop)
            return
        waiter: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _wake, waiter)
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiters.discard(waiter)

    def release(self) -> None:
        """End every pending delay now, and skip those that start later on this loop. Call it on the
        server's event loop, before it stops."""
        with contextlib.suppress(RuntimeError):  # no running loop: nothing can be waiting
            self._released = asyncio.get_running_loop()
        for waiter in self._waiters:
            _wake(waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass(eq=False, kw_only=True)
class FaultRule:
    """One rule. `remaining` counts down the requests it still takes (None: no limit)."""

    id: int
    write_key: str | None  # None: every write key
    action: str  # "status", "close" or "delay"
    status: int | None = None
    retry_after: str | None = None
    delay_ms: int = 0
    remaining: int | None = 1
    fraction: float | None = None
    seed: int | None = None
    body: bytes | None = None
    content_type: bytes = b"application/json"
    hits: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def describe(self) -> str:
        """`fault 3: status 429, Retry-After 1`, `fault 4: close after 200 ms`, `fault 5: delay 200 ms`."""
        if self.action == "delay":
            return f"fault {self.id}: delay {self.delay_ms} ms"
        what = f"status {self.status}" if self.action == "status" else "close"
        if self.retry_after is not None:
            what += f", Retry-After {self.retry_after}"
        if self.delay_ms:
            what += f" after {self.delay_ms} ms"
        return f"fault {self.id}: {what}"

    def to_dict(self) -> JSONObject:
        body: Any = None
        if self.body is not None:
            text = self.body.decode("utf-8", "replace")
            body = orjson.loads(self.body) if self.content_type == b"application/json" else text
        return {
            "id": self.id,
            "writeKey": self.write_key,
            "action": self.action,
            "status": self.status,
            "retryAfter": self.retry_after,
            "delayMs": self.delay_ms,
            "remaining": self.remaining,
            "fraction": self.fraction,
            "seed": self.seed,
            "body": body,
            "hits": self.hits,
            "description": self.describe(),
        }


class Faults:
    """The fault rules of one emulator, safe to change from any thread while it serves.

    `active` is a plain attribute, true while any rule exists: the tracking endpoints test it and
    nothing else when no fault is configured.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self.active = False
        self.pauses = Pauses()

    def release(self) -> None:
        """End the delays being waited out now, so that their requests are answered before a shutdown
        (see `Pauses`). Call it on the server's event loop (`Emulator.begin_shutdown` does)."""
        self.pauses.release()

    # -- setting rules -------------------------------------------------------------------------

    def add(
        self,
        *,
        write_key: str | None = None,
        status: int | None = None,
        count: int | None = 1,
        fraction: float | None = None,
        seed: int | None = None,
        retry_after: int | str | None = None,
        delay_ms: int = 0,
        close: bool = False,
        body: bytes | str | JSONObject | None = None,
    ) -> FaultRule:
        """Add a rule; returns it. `count=None` takes every request (or the `fraction` of them).

        Give a `status`, or `close=True`, or a `delay_ms` alone (an answer as usual, late). Raises
        `FaultError` for a status outside 200-599, a negative count or delay, a fraction outside
        (0, 1], a `retry_after` that is neither whole seconds (0 to 86400) nor an HTTP date, or a
        status with `close`.
        """
        return self._add(
            check_rule(
                write_key=write_key,
                status=status,
                count=count,
                fraction=fraction,
                seed=seed,
                retry_after=retry_after,
                delay_ms=delay_ms,
                close=close,
                body=body,
            )
        )

    def _add(self, spec: RuleSpec) -> FaultRule:
        with self._lock:
            rule = FaultRule(
                id=next(self._ids),
                write_key=spec.write_key,
                action=spec.action,
                status=spec.status,
                retry_after=spec.retry_after,
                delay_ms=spec.delay_ms,
                remaining=spec.count,
                fraction=spec.fraction,
                seed=spec.seed,
                body=spec.body,
                content_type=spec.content_type,
                _random=random.Random(spec.seed),
            )
            self._rules.append(rule)
            self.active = True
        return rule

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        retry_after: int | str | None = None,
        write_key: str | None = None,
        delay_ms: int = 0,
        body: bytes | str | JSONObject | None = None,
    ) -> FaultRule:
        """Answer `status` (503 by default) to the next `count` requests."""
        return self.add(
            write_key=write_key, status=status, count=count, retry_after=retry_after, delay_ms=delay_ms, body=body
        )

    def fail_all(
        self,
        *,
        status: int = 503,
        retry_after: int | str | None = None,
        write_key: str | None = None,
        fraction: float | None = None,
        seed: int | None = None,
        delay_ms: int = 0,
        body: bytes | str | JSONObject | None = None,
    ) -> FaultRule:
        """Answer `status` to every request (or to a `fraction` of them, drawn with `seed`) until cleared."""
        return self.add(
            write_key=write_key,
            status=status,
            count=None,
            fraction=fraction,
            seed=seed,
            retry_after=retry_after,
            delay_ms=delay_ms,
            body=body,
        )

    def drop_next(self, count: int = 1, *, write_key: str | None = None, delay_ms: int = 0) -> FaultRule:
        """Close the connection of the next `count` requests without answering."""
        return self.add(write_key=write_key, close=True, count=count, delay_ms=delay_ms)

    def delay(self, delay_ms: int, *, write_key: str | None = None, count: int | None = None) -> FaultRule:
        """Answer every request (or the next `count`) as usual, `delay_ms` milliseconds late."""
        return self.add(write_key=write_key, delay_ms=delay_ms, count=count)

    def add_json(self, spec: Any) -> FaultRule:
        """Add a rule from the JSON shape of `POST /mockpipe/faults` (see `FaultsAPI`); raises `FaultError`."""
        return self._add(rule_from_json(spec))

    # -- reading and clearing ------------------------------------------------------------------

    def rules(self, write_key: str | None = None) -> list[FaultRule]:
        """The rules in the order they are tried; with `write_key`, those that apply to it."""
        with self._lock:
            return [rule for rule in self._rules if write_key is None or rule.write_key in (None, write_key)]

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; returns whether it existed."""
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._set(kept)
        return removed

    def clear(self, write_key: str | None = None) -> int:
        """Remove every rule, or the rules set for one write key; returns how many went."""
        with self._lock:
            kept = [] if write_key is None else [rule for rule in self._rules if rule.write_key != write_key]
            removed = len(self._rules) - len(kept)
            self._set(kept)
        return removed

    def _set(self, rules: list[FaultRule]) -> None:
        self._rules = rules
        self.active = bool(rules)

    # -- the hot path --------------------------------------------------------------------------

    def take(self, write_key: str) -> FaultHit | None:
        """Fire the rules that apply to one request of `write_key`; None when none fires."""
        with self._lock:
            answer: FaultRule | None = None
            delays: list[FaultRule] = []
            spent = False
            for rule in self._rules:
                if rule.write_key is not None and rule.write_key != write_key:
                    continue
                if answer is not None and rule.action != "delay":
                    continue  # one answer per request: the next answering rule waits for the next request
                if rule.fraction is not None and rule._random.random() >= rule.fraction:
                    continue
                rule.hits += 1
                if rule.action != "delay":
                    answer = rule
                elif rule.delay_ms:
                    delays.append(rule)
                if rule.remaining is not None:
                    rule.remaining -= 1
                    spent = spent or rule.remaining == 0
            if spent:
                self._set([rule for rule in self._rules if rule.remaining != 0])
        fired = ([answer] if answer is not None else []) + delays
        if not fired:
            return None
        label = "; ".join(rule.describe() for rule in fired)
        delay = sum(rule.delay_ms for rule in fired) / 1000
        if answer is None:
            return FaultHit(None, False, None, delay, None, b"", label, self.pauses)
        return FaultHit(
            answer.status,
            answer.action == "close",
            answer.retry_after,
            delay,
            answer.body,
            answer.content_type,
            label,
            self.pauses,
        )


def fault_answer(hit: FaultHit) -> tuple[int, bytes, bytes]:
    """(status, body, content type) of a status fault; status 0 for a close (nothing is answered)."""
    if hit.status is None:
        return 0, b"", b""
    if hit.body is not None:
        return hit.status, hit.body, hit.content_type
    if hit.status < 300:
        return hit.status, b"{}", b"application/json"
    message = f"mockpipe answered {hit.status} on purpose ({hit.label})"
    return hit.status, tracking_error("fault.injected", message), b"application/json"


def message_ids(body: JSONObject) -> list[str]:
    """The messageIds a request body carries (one call, or the items of a batch)."""
    items = body.get("batch")
    calls: Iterable[Any] = items if isinstance(items, list) else (body,)
    return [
        call["messageId"]
        for call in calls
        if isinstance(call, dict) and isinstance(call.get("messageId"), str) and call["messageId"]
    ]
