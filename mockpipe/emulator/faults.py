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
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.responses import error_response
from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from mockpipe.types import JSONObject

log = logging.getLogger("mockpipe.emulator.faults")

MAX_DELAY_MS = 300_000  # five minutes: longer than any SDK's request timeout
MAX_RETRY_AFTER = 86_400  # seconds: a day is more than any client waits
# The ASGI `send` of the server itself, kept in the scope's extensions by `mockpipe.emulator.app.EmulatorApp`.
RAW_SEND = "mockpipe.raw_send"
DISCONNECT_WAIT = 1.0  # seconds to wait for the server to notice a connection it was told to abort
_FIELDS = frozenset(
    {"writeKey", "status", "count", "all", "fraction", "seed", "retryAfter", "delayMs", "action", "body"}
)
_ACTIONS = ("status", "close", "delay")
# How errors name the options: as `Faults.add` spells them, or as `POST /mockpipe/faults` does.
_PYTHON_NAMES = {"retry_after": "retry_after", "delay_ms": "delay_ms", "close": "close=True", "every": "None"}
_HTTP_NAMES = {"retry_after": "retryAfter", "delay_ms": "delayMs", "close": 'action "close"', "every": '"all": true'}


class FaultError(MockpipeError, ValueError):
    """A fault rule that cannot be set (a status out of range, a count and `all` together, ...)."""


class InjectedFault(MockpipeError):
    """Raised by `Ingest.handle` when a fault answers the request (already journaled); never escapes
    the tracking endpoints, whose ASGI layer delivers it with `deliver`."""

    def __init__(self, hit: FaultHit, status: int, body: bytes, content_type: bytes) -> None:
        super().__init__(hit.label)
        self.hit = hit
        self.status = status
        self.body = body
        self.content_type = content_type

    async def deliver(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer as the fault says: late, with its status and headers, or by closing the connection."""
        hit = self.hit
        if hit.delay > 0:
            await hit.pause()
        if hit.close:
            await close_connection(scope, receive, send)
            return
        headers = [(b"content-type", self.content_type), (b"content-length", str(len(self.body)).encode())]
        if hit.retry_after is not None:
            headers.append((b"retry-after", hit.retry_after.encode("latin-1")))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


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
        (see `Pauses`). Call it on the server's event loop (`mockpipe.emulator.app.begin_shutdown` does)."""
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
            write_key=write_key,
            status=status,
            count=count,
            fraction=fraction,
            seed=seed,
            retry_after=retry_after,
            delay_ms=delay_ms,
            close=close,
            body=body,
            names=_PYTHON_NAMES,
        )

    def _add(
        self,
        *,
        write_key: str | None,
        status: int | None,
        count: int | None,
        fraction: float | None,
        seed: int | None,
        retry_after: int | str | None,
        delay_ms: int,
        close: bool,
        body: bytes | str | JSONObject | None,
        names: Mapping[str, str],
    ) -> FaultRule:
        """`add`, with errors that name the options as the caller spelt them (`names`: Python or HTTP)."""
        if close and status is not None:
            raise FaultError("a rule either answers a status or closes the connection, not both")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599):
            raise FaultError(f"status must be an integer from 200 to 599, not {status!r}")
        if isinstance(delay_ms, bool) or not isinstance(delay_ms, int) or not 0 <= delay_ms <= MAX_DELAY_MS:
            raise FaultError(f"{names['delay_ms']} must be an integer from 0 to {MAX_DELAY_MS}, not {delay_ms!r}")
        if status is None and not close and delay_ms == 0:
            raise FaultError(f"give a status, {names['close']}, or a delay ({names['delay_ms']})")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise FaultError(f"count must be a positive integer, or {names['every']} for every request, not {count!r}")
        if fraction is not None and (
            isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1
        ):
            raise FaultError(f"fraction must be a number in (0, 1], not {fraction!r}")
        if retry_after is not None and status is None:
            raise FaultError(f"{names['retry_after']} goes with a status")
        if body is not None and status is None:
            raise FaultError("body goes with a status")
        action = "status" if status is not None else "close" if close else "delay"
        encoded, content_type = _body(body)
        retry_header = _retry_after(retry_after, names["retry_after"])
        with self._lock:
            rule = FaultRule(
                id=next(self._ids),
                write_key=write_key,
                action=action,
                status=status,
                retry_after=retry_header,
                delay_ms=delay_ms,
                remaining=count,
                fraction=None if fraction is None else float(fraction),
                seed=seed,
                body=encoded,
                content_type=content_type,
                _random=random.Random(seed),
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
        if not isinstance(spec, dict):
            raise FaultError("the body must be a JSON object")
        unknown = set(spec) - _FIELDS
        if unknown:
            raise FaultError(f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_FIELDS))}")
        write_key = spec.get("writeKey")
        if write_key is not None and (not isinstance(write_key, str) or not write_key):
            raise FaultError("writeKey must be a non-empty string (leave it out for every key)")
        action = spec.get("action", "status" if "status" in spec else "delay" if "delayMs" in spec else None)
        if action not in _ACTIONS:
            raise FaultError(f"action must be one of {', '.join(_ACTIONS)} (or give a status), not {action!r}")
        if action == "status" and "status" not in spec:
            raise FaultError("action status needs a status")
        if action != "status" and "status" in spec:
            raise FaultError(f"a status does not go with action {action}")
        every = spec.get("all", False)
        if not isinstance(every, bool):
            raise FaultError("all must be true or false")
        if every and "count" in spec:
            raise FaultError("give count or all, not both")
        default_count = None if every or "fraction" in spec else 1
        seed = spec.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultError("seed must be an integer")
        return self._add(
            write_key=write_key,
            status=spec.get("status"),
            count=spec.get("count", default_count),
            fraction=spec.get("fraction"),
            seed=seed,
            retry_after=spec.get("retryAfter"),
            delay_ms=spec.get("delayMs", 0),
            close=action == "close",
            body=spec.get("body"),
            names=_HTTP_NAMES,
        )

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
    return (
        hit.status,
        orjson.dumps({"code": "fault.injected", "message": message, "violations": [], "meta": {"errors": [message]}}),
        b"application/json",
    )


def message_ids(body: JSONObject) -> list[str]:
    """The messageIds a request body carries (one call, or the items of a batch)."""
    items = body.get("batch")
    calls: Iterable[Any] = items if isinstance(items, list) else (body,)
    return [
        call["messageId"]
        for call in calls
        if isinstance(call, dict) and isinstance(call.get("messageId"), str) and call["messageId"]
    ]


def _retry_after(value: object, name: str) -> str | None:
    """The Retry-After header of a rule: whole seconds (a number, or digits in a string) up to a day,
    or an HTTP date. RFC 9110 allows nothing else: `1.5` would be read differently by each client."""
    if value is None:
        return None
    seconds: int | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A JSON `2.0` is the number 2; 1.5 or 1e308 are no delay-seconds.
        seconds = int(value) if isinstance(value, int) or value.is_integer() else None
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        digits = value.strip()
        seconds = int(digits) if len(digits) <= 9 else MAX_RETRY_AFTER + 1  # int() refuses 4300+ digits
    elif isinstance(value, str) and not value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        try:
            email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
        else:
            return value.strip()
    if seconds is None or not 0 <= seconds <= MAX_RETRY_AFTER:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise FaultError(f"{name} must be whole seconds from 0 to {MAX_RETRY_AFTER}, or an HTTP date, not {shown}")
    return str(seconds)


def _body(body: bytes | str | JSONObject | None) -> tuple[bytes | None, bytes]:
    """The body a status rule answers, and its content type: JSON for an object, text for a string."""
    if body is None:
        return None, b"application/json"
    if isinstance(body, dict):
        return orjson.dumps(body), b"application/json"
    if isinstance(body, str):
        return body.encode(), b"text/plain; charset=utf-8"
    if isinstance(body, bytes):
        return body, b"application/octet-stream"
    raise FaultError("body must be a JSON object, a string or bytes")


# -- closing a connection without an answer ------------------------------------------------------


def _abort_transport(scope: Scope) -> bool:
    """Abort the TCP connection of this request at once (no status line, no body); False if not found.

    ASGI has no way to drop a connection: an app that returns without answering gets a 500 from
    Hypercorn. So walk Hypercorn's own objects (checked against hypercorn 0.17 and 0.18, HTTP/1.1):
    the server's `send` is `HTTPStream.app_send`; the stream's `send` is `H11Protocol.stream_send`;
    the protocol's `send` is `TCPServer.protocol_send`, whose server holds the asyncio StreamWriter.
    Anything else (another server, HTTP/2 where the connection carries other streams) returns False.
    """
    raw_send: Any = (scope.get("extensions") or {}).get(RAW_SEND)
    try:
        stream = raw_send.__self__
        protocol = stream.send.__self__
        if type(protocol).__name__ != "H11Protocol":
            return False
        transport = protocol.send.__self__.writer.transport
    except AttributeError:
        return False
    if not isinstance(transport, asyncio.Transport) or transport.is_closing():
        return False
    transport.abort()
    return True


async def close_connection(scope: Scope, receive: Receive, send: Send) -> None:
    """Drop the connection without an answer; where that is impossible, answer headers that promise a
    body which never comes, and end the connection there (the client sees a truncated response)."""
    if not _abort_transport(scope):
        log.debug("cannot reach the connection of %s; answering a truncated response", scope.get("path"))
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"1024"),
                    (b"connection", b"close"),
                ],
            }
        )
        return  # without the promised body: the server ends the connection mid-response
    # Hypercorn answers 500 for an app that returns before its request was seen to end: wait for it.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DISCONNECT_WAIT):
            while (await receive())["type"] != "http.disconnect":
                pass


# -- the HTTP API ------------------------------------------------------------------------------


def _error(message: str, status: int = 400) -> JSONResponse:
    return error_response("fault.invalid" if status == 400 else "not_found", message, status)


class FaultsAPI:
    """`/mockpipe/faults`: set, list and clear fault rules over HTTP.

    `POST /mockpipe/faults` with a JSON object (answers 201 with the rule):
    `writeKey` (leave out for every key), `status` (200-599), `retryAfter` (whole seconds from 0 to
    86400, or an HTTP date), `body` (an object answered as JSON, or a string as text; default
    `{"code","message"}`),
    `action` (`"status"` when a status is given, `"close"`, or `"delay"`), `delayMs` (0-300000),
    `count` (the next N requests, default 1) or `all: true`, `fraction` (0-1, with an optional
    `count` cap and `seed`). `GET /mockpipe/faults?writeKey=` lists the rules (with their `hits` and
    `remaining`), `DELETE /mockpipe/faults?writeKey=` clears them, `DELETE /mockpipe/faults/{id}` one.
    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    def routes(self) -> list[Route]:
        return [
            Route("/mockpipe/faults", self.list, methods=["GET"]),
            Route("/mockpipe/faults", self.add, methods=["POST"]),
            Route("/mockpipe/faults", self.clear, methods=["DELETE"]),
            Route("/mockpipe/faults/{rule_id:int}", self.remove, methods=["DELETE"]),
        ]

    async def list(self, request: Request) -> JSONResponse:
        rules = self.faults.rules(request.query_params.get("writeKey"))
        return JSONResponse({"faults": [rule.to_dict() for rule in rules], "count": len(rules)})

    async def add(self, request: Request) -> JSONResponse:
        try:
            spec = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            return _error(f"the body is not JSON: {exc}")
        try:
            rule = self.faults.add_json(spec)
        except FaultError as exc:
            return _error(str(exc))
        return JSONResponse({"fault": rule.to_dict()}, status_code=201)

    async def clear(self, request: Request) -> JSONResponse:
        return JSONResponse({"deleted": self.faults.clear(request.query_params.get("writeKey"))})

    async def remove(self, request: Request) -> JSONResponse:
        rule_id = request.path_params["rule_id"]
        if not self.faults.remove(rule_id):
            return _error(f"no fault {rule_id}", 404)
        return JSONResponse({"deleted": 1})
