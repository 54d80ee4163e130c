"""The journal: every request the emulator received and every call cut out of them.

Records are tuples of plain values (ints, strings, bytes): cheap to keep by the million, and the
garbage collector stops scanning them once they are old. The payload is kept as the JSON bytes of
the enriched call and decoded on demand.

The journal is written from the server's event loop and read from any thread: a lock guards it,
a condition wakes blocking `wait_for` callers, and asyncio waiters are woken on their own loop.
Listeners (persistence, recorders, live views) are called after each request is recorded and
before its response is sent, so a call is never acknowledged before everything has seen it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import orjson

from mockpipe.errors import JournalWriteError

if TYPE_CHECKING:
    from mockpipe.rules import Violation
    from mockpipe.types import JSONObject

log = logging.getLogger("mockpipe.journal")

DEFAULT_WAIT_TIMEOUT = 5.0
# messageIds of attempts a fault answered, kept per write key until a copy of the call comes through.
MAX_FAILED_ATTEMPTS = 10_000


class Call(NamedTuple):
    """One call as the emulator received it (a batch item counts as a call of its own)."""

    id: int
    request_id: int
    write_key: str
    type: str
    received_at: str
    region: str
    path: str
    valid: bool
    accepted: bool
    violations: tuple[Violation, ...]
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    event: str | None
    name: str | None
    raw: bytes
    duplicate_of: int | None = None

    @property
    def payload(self) -> JSONObject:
        """The enriched payload (a fresh dict on every access)."""
        payload: JSONObject = orjson.loads(self.raw)
        return payload

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "error")

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "warning")

    def to_dict(self, *, attempts: int = 1) -> JSONObject:
        return {
            "id": self.id,
            "requestId": self.request_id,
            "writeKey": self.write_key,
            "type": self.type,
            "receivedAt": self.received_at,
            "region": self.region,
            "path": self.path,
            "valid": self.valid,
            "accepted": self.accepted,
            "violations": [v.to_dict() for v in self.violations],
            "messageId": self.message_id,
            "duplicateOf": self.duplicate_of,
            "attempts": attempts,
            "payload": self.payload,
        }


class RequestRecord(NamedTuple):
    """One HTTP request (an attempt), accepted or rejected."""

    id: int
    received_at: str
    method: str
    path: str
    write_key: str | None
    auth: str | None  # "basic", "bearer", "body" or None
    status: int
    accepted: bool
    reason: str | None  # rejection or error code when not accepted
    message: str | None
    violations: tuple[Violation, ...]  # of the envelope (a batch without items, ...)
    call_ids: tuple[int, ...]
    size: int  # body bytes after decompression (or as far as they were read)
    content_encoding: str | None
    user_agent: str | None
    retry_count: str | None  # the X-Retry-Count header some SDKs send on resends
    body: bytes | None = None  # kept for rejected requests only, to show what was wrong
    fault: str | None = None  # an injected fault that answered this request

    def to_dict(self) -> JSONObject:
        return {
            "id": self.id,
            "receivedAt": self.received_at,
            "method": self.method,
            "path": self.path,
            "writeKey": self.write_key,
            "auth": self.auth,
            "status": self.status,
            "accepted": self.accepted,
            "reason": self.reason,
            "message": self.message,
            "violations": [v.to_dict() for v in self.violations],
            "callIds": list(self.call_ids),
            "size": self.size,
            "contentEncoding": self.content_encoding,
            "userAgent": self.user_agent,
            "retryCount": self.retry_count,
            "body": None if self.body is None else self.body.decode("utf-8", "replace"),
            "fault": self.fault,
        }


# The journal stores records as plain tuples, not as `Call` / `RequestRecord` instances: the garbage
# collector stops tracking a plain tuple of strings, numbers and bytes, while it walks every instance
# of a tuple subclass at each full collection (90 ms per 100,000 calls, the tail latency of a long run).
# Records are rebuilt (`_as_call`, `_as_request`) when they are read.
_ID, _WRITE_KEY, _TYPE, _MESSAGE_ID, _DUPLICATE_OF = (
    Call._fields.index(name) for name in ("id", "write_key", "type", "message_id", "duplicate_of"))
_VALID, _ACCEPTED, _USER_ID, _ANONYMOUS_ID, _EVENT, _NAME = (
    Call._fields.index(name) for name in ("valid", "accepted", "user_id", "anonymous_id", "event", "name"))
_REQUEST_WRITE_KEY, _REQUEST_STATUS, _REQUEST_ACCEPTED = (
    RequestRecord._fields.index(name) for name in ("write_key", "status", "accepted"))
assert RequestRecord._fields.index("id") == _ID == 0


def _as_call(row: tuple[Any, ...]) -> Call:
    return tuple.__new__(Call, row)


def _as_request(row: tuple[Any, ...]) -> RequestRecord:
    return tuple.__new__(RequestRecord, row)


def _parse_params(params: Mapping[str, str], spec: Mapping[str, tuple[str, Callable[[str], Any]]]) -> dict[str, Any]:
    """The query fields set by HTTP query parameters, read as `spec` says; ValueError names a bad one."""
    values: dict[str, Any] = {}
    for param, (attribute, read) in spec.items():
        text = params.get(param)
        if text is not None:
            try:
                values[attribute] = read(text)
            except ValueError as exc:
                raise ValueError(f"query parameter {param}={text!r}: {exc}") from None
    return values


def _parse_count(text: str) -> int:
    number = int(text)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQuery:
    """Which calls to return. Every filter given must match; `None` means any."""

    write_key: str | None = None
    type: str | None = None
    event: str | None = None
    name: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    message_id: str | None = None
    valid: bool | None = None
    accepted: bool | None = None
    duplicates: bool = False  # include the resends of a messageId already seen
    after: int | None = None  # only calls with a larger id (paging)
    limit: int | None = None

    # HTTP query parameters (camelCase, as on the wire): the field each sets, and how it is read.
    PARAMS: ClassVar[dict[str, tuple[str, Callable[[str], Any]]]] = {
        "writeKey": ("write_key", str), "type": ("type", str), "event": ("event", str), "name": ("name", str),
        "userId": ("user_id", str), "anonymousId": ("anonymous_id", str), "messageId": ("message_id", str),
        "valid": ("valid", _parse_bool), "accepted": ("accepted", _parse_bool),
        "duplicates": ("duplicates", _parse_bool), "after": ("after", _parse_count), "limit": ("limit", _parse_count),
    }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CallQuery:
        """A query from HTTP query parameters; raises ValueError naming a bad parameter."""
        return cls(**_parse_params(params, cls.PARAMS))

    def matches(self, call: tuple[Any, ...]) -> bool:
        """Whether a call (a `Call`, or the plain tuple the journal stores) passes every filter."""
        return (
            (self.write_key is None or call[_WRITE_KEY] == self.write_key)
            and (self.type is None or call[_TYPE] == self.type)
            and (self.event is None or call[_EVENT] == self.event)
            and (self.name is None or call[_NAME] == self.name)
            and (self.user_id is None or call[_USER_ID] == self.user_id)
            and (self.anonymous_id is None or call[_ANONYMOUS_ID] == self.anonymous_id)
            and (self.message_id is None or call[_MESSAGE_ID] == self.message_id)
            and (self.valid is None or call[_VALID] == self.valid)
            and (self.accepted is None or call[_ACCEPTED] == self.accepted)
            and (self.duplicates or call[_DUPLICATE_OF] is None)
            and (self.after is None or call[_ID] > self.after)
        )


CALL_QUERY_FIELDS = frozenset(f.name for f in fields(CallQuery))


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestQuery:
    """Which requests to return."""

    write_key: str | None = None
    accepted: bool | None = None
    status: int | None = None
    after: int | None = None
    limit: int | None = None

    PARAMS: ClassVar[dict[str, tuple[str, Callable[[str], Any]]]] = {
        "writeKey": ("write_key", str), "accepted": ("accepted", _parse_bool), "status": ("status", int),
        "after": ("after", _parse_count), "limit": ("limit", _parse_count),
    }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RequestQuery:
        """A query from HTTP query parameters; raises ValueError naming a bad parameter."""
        return cls(**_parse_params(params, cls.PARAMS))

    def matches(self, request: tuple[Any, ...]) -> bool:
        """Whether a request (a `RequestRecord`, or the plain tuple the journal stores) passes every filter."""
        return (
            (self.write_key is None or request[_REQUEST_WRITE_KEY] == self.write_key)
            and (self.accepted is None or request[_REQUEST_ACCEPTED] == self.accepted)
            and (self.status is None or request[_REQUEST_STATUS] == self.status)
            and (self.after is None or request[_ID] > self.after)
        )


class WaitResult(NamedTuple):
    """What `wait_for` found: the matching calls, and whether it gave up before `count` of them."""

    calls: list[Call]
    timed_out: bool


@dataclass(slots=True)
class SourceStatus:
    """The seed's "test connection" for one write key: connected once a call has been accepted."""

    write_key: str
    first_received_at: str | None = None
    last_received_at: str | None = None
    calls: int = 0
    accepted: int = 0
    invalid: int = 0
    duplicates: int = 0
    requests: int = 0
    rejected_requests: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def connected(self) -> bool:
        return self.accepted > 0

    def to_dict(self) -> JSONObject:
        return {
            "writeKey": self.write_key,
            "connected": self.connected,
            "firstReceivedAt": self.first_received_at,
            "lastReceivedAt": self.last_received_at,
            "calls": self.calls,
            "accepted": self.accepted,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "requests": self.requests,
            "rejectedRequests": self.rejected_requests,
            "byType": dict(self.by_type),
        }


Listener = Callable[[RequestRecord, list[Call]], None]


class _Partition:
    """The calls of one write key, and the first call seen for each of its messageIds."""

    __slots__ = ("calls", "failed_attempts", "first_by_message", "source")

    def __init__(self, write_key: str) -> None:
        self.calls: deque[tuple[Any, ...]] = deque()
        self.first_by_message: dict[str, tuple[Any, ...]] = {}
        self.failed_attempts: dict[str, int] = {}  # messageId -> attempts a fault answered, call not seen yet
        self.source = SourceStatus(write_key)


class Journal:
    """The in-memory journal, bounded to `max_calls` calls (oldest dropped and counted) if given.

    A persistent store subclasses it, or subscribes as a listener and reloads with `restore`.
    """

    def __init__(self, *, max_calls: int | None = None) -> None:
        self.max_calls = max_calls
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: deque[tuple[Any, ...]] = deque()  # plain tuples, see _as_call
        self._requests: deque[tuple[Any, ...]] = deque()
        self._partitions: dict[str, _Partition] = {}
        self._attempts: dict[int, int] = {}  # call id -> copies received, for calls that were resent
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._released = 0  # bumped by release_waiters(): waits that started before it end
        self._clears = 0  # bumped by clear(): pending waits start over
        self._listeners: list[Listener] = []
        self._durable: list[Listener] = []  # listeners whose failure fails the request
        self._clear_listeners: list[Callable[[str | None], None]] = []
        self._annotations: dict[int, dict[str, Any]] = {}  # call id -> side values (forward status, ...)
        self.dropped_calls = 0
        self.dropped_requests = 0
        self._call_ids = itertools.count(1)
        self._request_ids = itertools.count(1)

    # -- writing -------------------------------------------------------------------------------

    def _partition(self, write_key: str) -> _Partition:
        """The partition of a write key, made on first use (the lock is held)."""
        partition = self._partitions.get(write_key)
        if partition is None:
            partition = self._partitions[write_key] = _Partition(write_key)
        return partition

    def next_request_id(self) -> int:
        return next(self._request_ids)

    def next_call_id(self) -> int:
        return next(self._call_ids)

    def record(self, request: RequestRecord, calls: Iterable[Call] = ()) -> tuple[RequestRecord, list[Call]]:
        """Add a request and its calls; returns them as stored (resends marked `duplicate_of`)."""
        stored: list[Call] = []
        with self._lock:
            for call in calls:
                partition = self._partition(call.write_key)
                first = partition.first_by_message.get(call.message_id)
                if first is None or (call.accepted and not first[_ACCEPTED]):
                    # The call itself, or the first accepted copy after copies a strict answer turned down.
                    if partition.failed_attempts and call.message_id in partition.failed_attempts:
                        self._attempts[call.id] = 1 + partition.failed_attempts.pop(call.message_id)
                else:
                    call = call._replace(duplicate_of=first[_ID])
                    self._attempts[first[_ID]] = self._attempts.get(first[_ID], 1) + 1
                self._append_call(partition, call)
                stored.append(call)
            self._append_request(request)
            self._changed.notify_all()
            for loop, event in self._async_waiters:
                loop.call_soon_threadsafe(event.set)
        failure: Exception | None = None
        for listener in self._listeners:
            try:
                listener(request, stored)
            except Exception as exc:  # a broken listener must not take the server down
                log.exception("journal listener %r failed", listener)
                if listener in self._durable and failure is None:
                    failure = exc
        if failure is not None:
            raise JournalWriteError(f"a durable copy of request {request.id} failed: {failure}") from failure
        return request, stored

    def count_failed_attempt(self, write_key: str, message_ids: Iterable[str]) -> None:
        """Count an attempt an injected fault answered (the request itself is recorded as usual) into
        `attempts()` of the call with each messageId: the one already kept, or the copy that comes next."""
        with self._lock:
            partition = self._partition(write_key)
            failed = partition.failed_attempts
            for message_id in message_ids:
                first = partition.first_by_message.get(message_id)
                if first is not None:
                    self._attempts[first[_ID]] = self._attempts.get(first[_ID], 1) + 1
                else:
                    failed[message_id] = failed.get(message_id, 0) + 1
            while len(failed) > MAX_FAILED_ATTEMPTS:  # calls the client gave up on: forget the oldest
                del failed[next(iter(failed))]

    def _append_call(self, partition: _Partition, call: Call) -> None:
        source = partition.source
        source.calls += 1
        source.by_type[call.type] = source.by_type.get(call.type, 0) + 1
        if call.duplicate_of is not None:
            source.duplicates += 1
        if not call.valid:
            source.invalid += 1
        if call.accepted:
            source.accepted += 1
            source.first_received_at = source.first_received_at or call.received_at
            source.last_received_at = call.received_at
        row = tuple(call)
        if call.duplicate_of is None:
            partition.first_by_message[call.message_id] = row
        partition.calls.append(row)
        self._calls.append(row)
        if self.max_calls is not None and len(self._calls) > self.max_calls:
            self._drop_oldest_call()

    def _drop_oldest_call(self) -> None:
        oldest = self._calls.popleft()
        self.dropped_calls += 1
        partition = self._partitions[oldest[_WRITE_KEY]]
        if partition.calls and partition.calls[0] is oldest:
            partition.calls.popleft()
        else:  # not reached while ids grow in order, kept for safety
            partition.calls.remove(oldest)
        if partition.first_by_message.get(oldest[_MESSAGE_ID]) is oldest:
            del partition.first_by_message[oldest[_MESSAGE_ID]]
        self._attempts.pop(oldest[_ID], None)
        self._annotations.pop(oldest[_ID], None)

    def _append_request(self, request: RequestRecord) -> None:
        if request.write_key is not None:
            partition = self._partition(request.write_key)
            partition.source.requests += 1
            if not request.accepted:
                partition.source.rejected_requests += 1
        self._requests.append(tuple(request))
        if self.max_calls is not None and len(self._requests) > self.max_calls:
            self._requests.popleft()
            self.dropped_requests += 1

    def clear(self, write_key: str | None = None) -> int:
        """Forget every call and request, or those of one write key; returns how many calls went."""
        with self._lock:
            if write_key is None:
                removed = len(self._calls)
                self._calls.clear()
                self._requests.clear()
                self._partitions.clear()
                self._attempts.clear()
                self._annotations.clear()
            else:
                partition = self._partitions.pop(write_key, None)
                if partition is None:
                    return 0
                removed = len(partition.calls)
                gone = {row[_ID] for row in partition.calls}
                self._calls = deque(row for row in self._calls if row[_WRITE_KEY] != write_key)
                self._requests = deque(row for row in self._requests if row[_REQUEST_WRITE_KEY] != write_key)
                for call_id in gone:
                    self._attempts.pop(call_id, None)
                    self._annotations.pop(call_id, None)
            self._clears += 1
            self._changed.notify_all()
        for clear_listener in self._clear_listeners:
            try:
                clear_listener(write_key)
            except Exception:
                log.exception("journal clear listener %r failed", clear_listener)
        return removed

    def subscribe(self, listener: Listener, *, durable: bool = False) -> Callable[[], None]:
        """Call `listener(request, calls)` after every recorded request; returns an unsubscribe function.

        A `durable` listener keeps calls somewhere that must not miss one (a store, a recording): when
        it fails, `record` raises `JournalWriteError`, and the client is told to retry instead of 200.
        """
        self._listeners.append(listener)
        if durable:
            self._durable.append(listener)

        def unsubscribe() -> None:
            self._listeners.remove(listener)
            if listener in self._durable:
                self._durable.remove(listener)

        return unsubscribe

    def on_clear(self, listener: Callable[[str | None], None]) -> Callable[[], None]:
        """Call `listener(write_key)` after every `clear` (None: everything); returns an unsubscribe function."""
        self._clear_listeners.append(listener)
        return lambda: self._clear_listeners.remove(listener)

    def restore(
        self, requests: Iterable[RequestRecord], calls: Iterable[Call], *, last_request_id: int = 0,
        last_call_id: int = 0,
    ) -> None:
        """Reload records kept elsewhere (a persistent store), oldest first and as they were stored
        (ids, `duplicate_of`), without notifying listeners. New ids continue after the highest one
        restored, or after `last_request_id` / `last_call_id` when higher (ids deleted since)."""
        with self._lock:
            last_call_id = max(last_call_id, next(self._call_ids) - 1)
            last_request_id = max(last_request_id, next(self._request_ids) - 1)
            for call in calls:
                partition = self._partition(call.write_key)
                if call.duplicate_of is not None:
                    self._attempts[call.duplicate_of] = self._attempts.get(call.duplicate_of, 1) + 1
                self._append_call(partition, call)
                last_call_id = max(last_call_id, call.id)
            for request in requests:
                self._append_request(request)
                last_request_id = max(last_request_id, request.id)
            self._call_ids = itertools.count(last_call_id + 1)
            self._request_ids = itertools.count(last_request_id + 1)
            self._changed.notify_all()

    def annotate(self, call_id: int, name: str, value: Any) -> None:
        """Attach a side value to a call (its forward status, ...): the inspection API shows it as `name`."""
        with self._lock:
            self._annotations.setdefault(call_id, {})[name] = value

    def annotations(self, call_id: int) -> dict[str, Any]:
        """The side values attached to a call (a copy)."""
        with self._lock:
            return dict(self._annotations.get(call_id, ()))

    # -- reading -------------------------------------------------------------------------------

    def calls(self, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The calls matching `query` (or keyword filters: `type="track", user_id="u1"`), oldest first."""
        query = _query(query, filters)
        with self._lock:
            return self._select(query)

    def _select(self, query: CallQuery) -> list[Call]:
        source: Iterable[tuple[Any, ...]]
        if query.write_key is not None:
            partition = self._partitions.get(query.write_key)
            source = partition.calls if partition is not None else ()
        else:
            source = self._calls
        found = [row for row in source if query.matches(row)]
        return [_as_call(row) for row in (found[: query.limit] if query.limit is not None else found)]

    def call(self, call_id: int) -> Call | None:
        with self._lock:
            for row in reversed(self._calls):
                if row[_ID] == call_id:
                    return _as_call(row)
        return None

    def attempts(self, call_id: int) -> int:
        """How many copies of this call arrived (1 unless the SDK resent its messageId), counting the
        attempts an injected fault answered."""
        return self._attempts.get(call_id, 1)

    def requests(self, query: RequestQuery | None = None) -> list[RequestRecord]:
        query = query or RequestQuery()
        with self._lock:
            found = [row for row in self._requests if query.matches(row)]
        return [_as_request(row) for row in (found[: query.limit] if query.limit is not None else found)]

    def request(self, request_id: int) -> RequestRecord | None:
        with self._lock:
            for row in reversed(self._requests):
                if row[_ID] == request_id:
                    return _as_request(row)
        return None

    def source(self, write_key: str) -> SourceStatus:
        """The test-connection status of a write key (a copy, safe to keep)."""
        with self._lock:
            partition = self._partitions.get(write_key)
            if partition is None:
                return SourceStatus(write_key)
            status = partition.source
            return SourceStatus(**{f.name: getattr(status, f.name) for f in fields(status)} | {
                "by_type": dict(status.by_type)})

    def write_keys(self) -> list[str]:
        with self._lock:
            return list(self._partitions)

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls(CallQuery(duplicates=True)))

    # -- waiting -------------------------------------------------------------------------------

    @property
    def pending_waits(self) -> int:
        """How many asynchronous waits (long-polls) are in progress."""
        return len(self._async_waiters)

    def release_waiters(self) -> None:
        """End every pending asynchronous wait now, with what there is (the server is stopping)."""
        with self._lock:
            self._released += 1
            for loop, event in self._async_waiters:
                loop.call_soon_threadsafe(event.set)

    def wait_for(
        self, count: int = 1, timeout: float = DEFAULT_WAIT_TIMEOUT, query: CallQuery | None = None,
        **filters: Any,
    ) -> WaitResult:
        """Block until `count` calls match, or `timeout` seconds pass; never raises on time-out.
        A `limit` in the query bounds the calls returned, not the count waited for."""
        query = _query(query, filters)
        deadline = time.monotonic() + timeout
        progress = _WaitProgress(query)
        with self._changed:
            while True:
                self._gather(progress)
                remaining = deadline - time.monotonic()
                if len(progress.found) >= count or remaining <= 0:
                    return progress.result(count)
                self._changed.wait(remaining)

    async def wait_for_async(
        self, count: int = 1, timeout: float = DEFAULT_WAIT_TIMEOUT, query: CallQuery | None = None,
        **filters: Any,
    ) -> WaitResult:
        """`wait_for` for an event loop: suspends instead of blocking the thread."""
        query = _query(query, filters)
        deadline = time.monotonic() + timeout
        progress = _WaitProgress(query)
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._async_waiters.add(waiter)
            released = self._released
        try:
            while True:
                waiter[1].clear()  # before looking, so that a call landing meanwhile sets it again
                with self._lock:
                    self._gather(progress)
                remaining = deadline - time.monotonic()
                if len(progress.found) >= count or remaining <= 0 or self._released > released:
                    return progress.result(count)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter[1].wait(), remaining)
        finally:
            with self._lock:
                self._async_waiters.discard(waiter)

    def _gather(self, progress: _WaitProgress) -> None:
        """Add to `progress` the matching calls recorded since it last looked (the lock is held).

        Only the new calls are examined, so a pending wait costs little per recorded request."""
        if progress.clears != self._clears:  # the journal was cleared meanwhile: start over
            progress.found.clear()
            progress.seen_up_to = 0
            progress.clears = self._clears
        source: deque[tuple[Any, ...]] | tuple[()] = self._calls
        if progress.query.write_key is not None:
            partition = self._partitions.get(progress.query.write_key)
            source = partition.calls if partition is not None else ()
        new = []
        for row in reversed(source):  # ids grow along the deque: stop at the first one already seen
            if row[_ID] <= progress.seen_up_to:
                break
            if progress.query.matches(row):
                new.append(row)
        if source:
            progress.seen_up_to = max(progress.seen_up_to, source[-1][_ID])
        progress.found.extend(reversed(new))


class _WaitProgress:
    """What a pending wait has found so far."""

    __slots__ = ("clears", "found", "query", "seen_up_to")

    def __init__(self, query: CallQuery) -> None:
        self.query = query
        self.found: list[tuple[Any, ...]] = []
        self.seen_up_to = 0
        self.clears = -1

    def result(self, count: int) -> WaitResult:
        limit = self.query.limit
        rows = self.found if limit is None else self.found[:limit]
        return WaitResult([_as_call(row) for row in rows], len(self.found) < count)


def _query(query: CallQuery | None, filters: Mapping[str, Any]) -> CallQuery:
    if query is not None and filters:
        raise TypeError("pass either a CallQuery or keyword filters, not both")
    if query is not None:
        return query
    unknown = set(filters) - CALL_QUERY_FIELDS
    if unknown:
        raise TypeError(f"unknown call filter(s): {', '.join(sorted(unknown))}; known: "
                        f"{', '.join(sorted(CALL_QUERY_FIELDS))}")
    return CallQuery(**filters)
