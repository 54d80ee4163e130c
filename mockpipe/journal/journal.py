"""The journal: every request the emulator received and every call cut out of them.

Records are packed into rows of integers (`mockpipe.journal.packed`) with each call's JSON kept as bytes,
and read back as `Call` / `RequestRecord` on demand: cheap to keep by the million, and nothing for
the garbage collector to walk.

The journal is written from the server's event loop and read from any thread: a lock guards it,
a condition wakes blocking `wait_for` callers, and asyncio waiters are woken on their own loop.
Listeners (persistence, recorders, live views) are called after each request is recorded and
before its response is sent, so a call is never acknowledged before everything has seen it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import operator
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from mockpipe.errors import JournalWriteError
from mockpipe.journal.packed import (
    CALL_ACCEPTED,
    CALL_TYPE,
    CALL_VALID,
    CALL_WRITE_KEY,
    KEY_MASK,
    REQUEST_ACCEPTED,
    REQUEST_STATUS,
    REQUEST_WRITE_KEY,
    CallTable,
    RequestTable,
    text_key,
)
from mockpipe.journal.records import Call, RequestRecord

if TYPE_CHECKING:
    from mockpipe.types import JSONObject

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "Call",
    "CallQuery",
    "Journal",
    "RequestQuery",
    "RequestRecord",
    "SourceStatus",
    "WaitResult",
]

log = logging.getLogger("mockpipe.journal.journal")

DEFAULT_WAIT_TIMEOUT = 5.0
# messageIds of attempts a fault answered, kept per write key until a copy of the call comes through.
MAX_FAILED_ATTEMPTS = 10_000


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
        "writeKey": ("write_key", str),
        "type": ("type", str),
        "event": ("event", str),
        "name": ("name", str),
        "userId": ("user_id", str),
        "anonymousId": ("anonymous_id", str),
        "messageId": ("message_id", str),
        "valid": ("valid", _parse_bool),
        "accepted": ("accepted", _parse_bool),
        "duplicates": ("duplicates", _parse_bool),
        "after": ("after", _parse_count),
        "limit": ("limit", _parse_count),
    }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CallQuery:
        """A query from HTTP query parameters; raises ValueError naming a bad parameter."""
        return cls(**_parse_params(params, cls.PARAMS))

    def matches(self, call: Call) -> bool:
        """Whether a call passes every filter."""
        return (
            (self.write_key is None or call.write_key == self.write_key)
            and (self.type is None or call.type == self.type)
            and (self.event is None or call.event == self.event)
            and (self.name is None or call.name == self.name)
            and (self.user_id is None or call.user_id == self.user_id)
            and (self.anonymous_id is None or call.anonymous_id == self.anonymous_id)
            and (self.message_id is None or call.message_id == self.message_id)
            and (self.valid is None or call.valid == self.valid)
            and (self.accepted is None or call.accepted == self.accepted)
            and (self.duplicates or call.duplicate_of is None)
            and (self.after is None or call.id > self.after)
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
        "writeKey": ("write_key", str),
        "accepted": ("accepted", _parse_bool),
        "status": ("status", int),
        "after": ("after", _parse_count),
        "limit": ("limit", _parse_count),
    }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RequestQuery:
        """A query from HTTP query parameters; raises ValueError naming a bad parameter."""
        return cls(**_parse_params(params, cls.PARAMS))

    def matches(self, request: RequestRecord) -> bool:
        """Whether a request passes every filter."""
        return (
            (self.write_key is None or request.write_key == self.write_key)
            and (self.accepted is None or request.accepted == self.accepted)
            and (self.status is None or request.status == self.status)
            and (self.after is None or request.id > self.after)
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


_NO_KEY = object()  # no write key seen yet (None is one: a call recorded by hand may have none)
_WRITE_KEY = operator.attrgetter("write_key")  # of a Call, at C speed
# What `_count_run` reads of each call, by name.
_COUNTED = operator.attrgetter("type", "received_at", "valid", "accepted", "duplicate_of")

Listener = Callable[[RequestRecord, list[Call]], None]


class _Partition:
    """The calls of one write key (their sequence numbers in the call table, oldest first), and the
    first call seen for each of its messageIds."""

    __slots__ = ("collisions", "failed_attempts", "first_by_message", "head", "rows", "source")

    def __init__(self, write_key: str) -> None:
        self.rows = array("q")
        self.head = 0  # rows before it are gone (dropped by a bound); trimmed lazily
        self.first_by_message: dict[int, int] = {}  # text_key(messageId) -> id of the first call with it
        self.collisions: dict[str, int] = {}  # messageId -> first call id, where another messageId has its key
        self.failed_attempts: dict[str, int] = {}  # messageId -> attempts a fault answered, call not seen yet
        self.source = SourceStatus(write_key)

    def __len__(self) -> int:
        return len(self.rows) - self.head

    def drop_first(self, sequence: int) -> None:
        if self.head < len(self.rows) and self.rows[self.head] == sequence:
            self.head += 1
            if self.head >= 256 and self.head * 8 >= len(self.rows):
                del self.rows[: self.head]
                self.head = 0
        else:  # not reached while sequence numbers grow in order, kept for safety
            self.rows.remove(sequence)

    def forget_message(self, message_key: int, call_id: int) -> None:
        """Drop the messageId index entry of a call that is going away."""
        if self.first_by_message.get(message_key) == call_id:
            del self.first_by_message[message_key]
            for message_id in self.collisions:  # another messageId with this key takes it
                if text_key(message_id) == message_key:
                    self.first_by_message[message_key] = self.collisions.pop(message_id)
                    break
        elif self.collisions:
            for message_id, first in list(self.collisions.items()):
                if first == call_id:
                    del self.collisions[message_id]


class Journal:
    """The in-memory journal, bounded to `max_calls` calls (oldest dropped and counted) if given.

    A persistent store subscribes as a listener and reloads with `restore`.
    """

    def __init__(self, *, max_calls: int | None = None) -> None:
        self.max_calls = max_calls
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls = CallTable()
        self._requests = RequestTable()
        self._partitions: dict[str, _Partition] = {}
        self._attempts: dict[int, int] = {}  # call id -> copies received, for calls that were resent
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._sync_waits = 0  # threads blocked in wait_for: only they need the condition notified
        self._released = 0  # bumped by release_waiters(): waits that started before it end
        self._clears = 0  # bumped by clear(): pending waits start over
        self._listeners: list[Listener] = []
        self._durable: list[Listener] = []  # listeners whose failure fails the request
        self._clear_listeners: list[Callable[[str | None], None]] = []
        self._drop_listeners: list[Callable[[list[Call]], None]] = []
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
        calls = calls if isinstance(calls, list | tuple) else list(calls)
        with self._lock:
            if self.max_calls is not None:
                # The calls this request pushes out go first: a resend of one of them is a call of its own.
                self._keep_bound(len(calls))
            this_request: dict[int, Call] | None = None  # its calls by id, once a resend needs to look back
            write_key: object = _NO_KEY
            one_key = True
            for call in calls:
                if call.write_key is not write_key:  # the calls of a request share theirs
                    one_key = write_key is _NO_KEY
                    write_key = call.write_key
                    partition = self._partition(write_key)
                    first_by_message = partition.first_by_message
                message_id = call.message_id
                message_key = 0 if message_id is None else hash(message_id) & KEY_MASK or 1  # text_key, inline
                if message_key not in first_by_message:  # the usual case: a new messageId
                    first_by_message[message_key] = call.id
                    if partition.failed_attempts:
                        self._count_failed_attempts(partition, call)
                else:
                    if this_request is None:
                        this_request = {earlier.id: earlier for earlier in stored}
                    call = self._first_or_resent(partition, call, message_key, this_request)
                if this_request is not None:
                    this_request[call.id] = call
                stored.append(call)
            if stored:  # the usual request's calls share a write key: no need to sort them by key
                self._append_calls(stored, partition if one_key else None)
            self._append_request(request)
            if self._sync_waits:
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

    def _first_or_resent(
        self, partition: _Partition, call: Call, message_key: int, unstored: Mapping[int, Call]
    ) -> Call:
        """`call` when it is the first of its messageId (another one has the same key, or the copies
        before were turned down by a strict answer), else `call` marked as a resend of the first."""
        first = self._first_call(partition, call.message_id, message_key, unstored)
        if first is None or (call.accepted and not first.accepted):
            self._count_failed_attempts(partition, call)
            self._index_message(partition, call, message_key, unstored)
            return call
        self._attempts[first.id] = self._attempts.get(first.id, 1) + 1
        return call._replace(duplicate_of=first.id)

    def _count_failed_attempts(self, partition: _Partition, call: Call) -> None:
        """Count into a call the attempts of it that an injected fault answered before it came through."""
        failed = partition.failed_attempts.pop(call.message_id, 0)
        if failed:
            self._attempts[call.id] = 1 + failed

    def _first_call(
        self, partition: _Partition, message_id: str, message_key: int, unstored: Mapping[int, Call]
    ) -> Call | None:
        """The first call of a partition with this messageId, or None (the lock is held)."""
        first_id = partition.first_by_message.get(message_key)
        if first_id is None:
            return None
        first = self._call_by_id(first_id, unstored)
        if first is not None and first.message_id == message_id:
            return first
        collided = partition.collisions.get(message_id)  # another messageId has the same key
        return None if collided is None else self._call_by_id(collided, unstored)

    def _index_message(self, partition: _Partition, call: Call, message_key: int, unstored: Mapping[int, Call]) -> None:
        """Make `call` the first of its messageId in the partition (the lock is held)."""
        holder_id = partition.first_by_message.get(message_key)
        holder = None if holder_id is None else self._call_by_id(holder_id, unstored)
        if holder is None or holder.message_id == call.message_id:
            partition.first_by_message[message_key] = call.id
        else:
            partition.collisions[call.message_id] = call.id

    def _call_by_id(self, call_id: int, unstored: Mapping[int, Call]) -> Call | None:
        call = unstored.get(call_id)
        if call is None:
            index = self._calls.index_of(call_id)
            call = None if index is None else self._calls.call(index)
        return call

    def count_failed_attempt(self, write_key: str, message_ids: Iterable[str]) -> None:
        """Count an attempt an injected fault answered (the request itself is recorded as usual) into
        `attempts()` of the call with each messageId: the one already kept, or the copy that comes next."""
        with self._lock:
            partition = self._partition(write_key)
            failed = partition.failed_attempts
            for message_id in message_ids:
                first = self._first_call(partition, message_id, text_key(message_id), {})
                if first is not None:
                    self._attempts[first.id] = self._attempts.get(first.id, 1) + 1
                else:
                    failed[message_id] = failed.get(message_id, 0) + 1
            while len(failed) > MAX_FAILED_ATTEMPTS:  # calls the client gave up on: forget the oldest
                del failed[next(iter(failed))]

    def _append_calls(self, calls: list[Call], partition: _Partition | None = None) -> None:
        """Store calls (the lock is held); `partition` is the one they all belong to, when the caller knows."""
        first = self._calls.append(calls)
        if partition is None and (len(calls) == 1 or len(set(map(_WRITE_KEY, calls))) == 1):
            partition = self._partitions[calls[0].write_key]
        if partition is not None:
            self._count_run(partition, calls, range(first, first + len(calls)))
        else:  # calls of several write keys, restored from a store
            offsets: dict[str, list[int]] = {}
            for offset, call in enumerate(calls):
                offsets.setdefault(call.write_key, []).append(offset)
            for write_key, of_key in offsets.items():
                self._count_run(
                    self._partitions[write_key], [calls[at] for at in of_key], [first + at for at in of_key]
                )
        self._keep_bound()

    @staticmethod
    def _count_run(partition: _Partition, calls: Sequence[Call], sequences: Iterable[int]) -> None:
        """Add calls of one write key to its partition, and count them into its source."""
        partition.rows.extend(sequences)
        by_type: dict[str, int] = {}
        duplicates = invalid = accepted_calls = 0
        first_accepted_at: str | None = None
        last_accepted_at: str | None = None
        # One unpacking, counts in locals: this runs for every call received.
        for call_type, received_at, valid, accepted, duplicate_of in map(_COUNTED, calls):
            by_type[call_type] = by_type.get(call_type, 0) + 1
            if duplicate_of is not None:
                duplicates += 1
            if not valid:
                invalid += 1
            if accepted:
                accepted_calls += 1
                first_accepted_at = first_accepted_at or received_at
                last_accepted_at = received_at
        source = partition.source
        source.calls += len(calls)
        source.duplicates += duplicates
        source.invalid += invalid
        if accepted_calls:
            source.accepted += accepted_calls
            source.first_received_at = source.first_received_at or first_accepted_at
            source.last_received_at = last_accepted_at
        for call_type, count in by_type.items():
            source.by_type[call_type] = source.by_type.get(call_type, 0) + count

    def _keep_bound(self, coming: int = 0) -> None:
        """Drop the oldest calls beyond `max_calls`, making room for `coming` more (the lock is held)."""
        if self.max_calls is None or len(self._calls) + coming <= self.max_calls:
            return
        dropped: list[Call] = []
        while self._calls and len(self._calls) + coming > self.max_calls:
            if self._drop_listeners:
                dropped.append(self._calls.call(self._calls.head))
            self._drop_oldest_call()
        for drop_listener in self._drop_listeners:
            try:
                drop_listener(dropped)
            except Exception:
                log.exception("journal drop listener %r failed", drop_listener)

    def _drop_oldest_call(self) -> None:
        table = self._calls
        index = table.head
        call_id = table.field(index, table.ID)
        partition = self._partitions[table.shape(index)[CALL_WRITE_KEY]]
        partition.drop_first(table.base + index)
        partition.forget_message(table.field(index, table.MESSAGE), call_id)
        self._attempts.pop(call_id, None)
        self._annotations.pop(call_id, None)
        table.drop_oldest()
        self.dropped_calls += 1

    def _append_request(self, request: RequestRecord) -> None:
        if request.write_key is not None:
            partition = self._partition(request.write_key)
            partition.source.requests += 1
            if not request.accepted:
                partition.source.rejected_requests += 1
        self._requests.append(request)
        if self.max_calls is not None and len(self._requests) > self.max_calls:
            self._requests.drop_oldest()
            self.dropped_requests += 1

    def clear(self, write_key: str | None = None) -> int:
        """Forget every call and request, or those of one write key; returns how many calls went."""
        with self._lock:
            if write_key is None:
                removed = len(self._calls)
                self._calls = CallTable()
                self._requests = RequestTable()
                self._partitions.clear()
                self._attempts.clear()
                self._annotations.clear()
            else:
                partition = self._partitions.pop(write_key, None)
                if partition is None:
                    return 0
                removed = len(partition)
                table = self._calls
                for sequence in partition.rows[partition.head :]:
                    call_id = table.field(sequence - table.base, table.ID)
                    self._attempts.pop(call_id, None)
                    self._annotations.pop(call_id, None)
                table.retain(lambda shape: shape[CALL_WRITE_KEY] != write_key)
                self._requests.retain(lambda shape: shape[REQUEST_WRITE_KEY] != write_key)
                for other in self._partitions.values():  # sequence numbers changed: list them again
                    other.rows, other.head = array("q"), 0
                for index in range(table.head, table.stop):
                    self._partitions[table.shape(index)[CALL_WRITE_KEY]].rows.append(table.base + index)
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

    def on_drop(self, listener: Callable[[list[Call]], None]) -> Callable[[], None]:
        """Call `listener(calls)` with the calls the bound is making the journal forget, oldest first;
        returns an unsubscribe function. It runs under the journal's lock: it must not use the journal."""
        self._drop_listeners.append(listener)
        return lambda: self._drop_listeners.remove(listener)

    def restore(
        self,
        requests: Iterable[RequestRecord],
        calls: Iterable[Call],
        *,
        last_request_id: int = 0,
        last_call_id: int = 0,
    ) -> None:
        """Reload records kept elsewhere (a persistent store), oldest first and as they were stored
        (ids, `duplicate_of`), without notifying listeners. New ids continue after the highest one
        restored, or after `last_request_id` / `last_call_id` when higher (ids deleted since)."""
        with self._lock:
            last_call_id = max(last_call_id, next(self._call_ids) - 1)
            last_request_id = max(last_request_id, next(self._request_ids) - 1)
            for _, group in itertools.groupby(calls, key=lambda call: call.request_id):
                restored = list(group)
                this_request: dict[int, Call] = {}
                for call in restored:
                    partition = self._partition(call.write_key)
                    if call.duplicate_of is not None:
                        self._attempts[call.duplicate_of] = self._attempts.get(call.duplicate_of, 1) + 1
                    else:
                        self._index_message(partition, call, text_key(call.message_id), this_request)
                    this_request[call.id] = call
                    last_call_id = max(last_call_id, call.id)
                self._append_calls(restored)
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
            return self._matching(self._oldest_first(query.write_key, query.after), query, query.limit)

    def latest_calls(self, count: int, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The newest `count` calls matching `query` (or keyword filters), oldest first."""
        query = _query(query, filters)
        with self._lock:
            return self._matching(self._newest_first(query.write_key), query, count)[::-1]

    def _oldest_first(self, write_key: str | None, after: int | None = None) -> Iterable[int]:
        """Physical indexes in the call table of every call, or of one key's calls, oldest first;
        with `after`, from the first call with a larger id (ids grow along the table)."""
        table = self._calls
        if not table.in_order:  # ids do not grow along the rows: look at every row (`candidate` checks `after`)
            after = None
        if write_key is None:
            return range(table.first_after(after) if after is not None else table.head, table.stop)
        partition = self._partitions.get(write_key)
        if partition is None:
            return ()
        base, rows, start = table.base, partition.rows, partition.head
        if after is not None:
            start = (
                bisect.bisect_right(
                    range(start, len(rows)), after, key=lambda position: table.field(rows[position] - base, table.ID)
                )
                + start
            )
        return (sequence - base for sequence in rows[start:])

    def _newest_first(self, write_key: str | None) -> Iterator[int]:
        """`_oldest_first` from the other end, lazily: waits look only at the newest calls."""
        table = self._calls
        if write_key is None:
            yield from range(table.stop - 1, table.head - 1, -1)
            return
        partition = self._partitions.get(write_key)
        if partition is not None:
            rows, base = partition.rows, table.base
            for position in range(len(rows) - 1, partition.head - 1, -1):
                yield rows[position] - base

    def _matching(self, indexes: Iterable[int], query: CallQuery, limit: int | None) -> list[Call]:
        """The calls at `indexes` that match, up to `limit` (the lock is held)."""
        found: list[Call] = []
        if limit == 0:
            return found
        candidate, read = self._prefilter(query), self._calls.call
        for index in indexes:
            if candidate(index):
                call = read(index)
                if query.matches(call):  # confirms what the row's keys only suggest
                    found.append(call)
                    if len(found) == limit:
                        break
        return found

    def _prefilter(self, query: CallQuery) -> Callable[[int], bool]:
        """A test of a row that rejects most calls the query does not match without reading them."""
        table = self._calls
        rows, width, duplicates = table.rows, table.WIDTH, table.duplicate_of
        keys = [
            (offset, text_key(value))
            for offset, value in (
                (table.MESSAGE, query.message_id),
                (table.USER, query.user_id),
                (table.ANONYMOUS, query.anonymous_id),
                (table.EVENT, query.event),
                (table.NAME, query.name),
            )
            if value is not None
        ]
        wanted = [
            (position, value)
            for position, value in (
                (CALL_WRITE_KEY, query.write_key),
                (CALL_TYPE, query.type),
                (CALL_VALID, query.valid),
                (CALL_ACCEPTED, query.accepted),
            )
            if value is not None
        ]
        shape_fits: dict[tuple[Any, ...], bool] = {}
        after = query.after
        skip_duplicates = not query.duplicates

        def candidate(index: int) -> bool:
            offset = index * width
            if after is not None and rows[offset] <= after:
                return False
            if skip_duplicates and rows[offset] in duplicates:
                return False
            for key_offset, key in keys:
                if rows[offset + key_offset] != key:
                    return False
            if wanted:
                shape = table.shape(index)
                fits = shape_fits.get(shape)
                if fits is None:
                    fits = shape_fits[shape] = all(shape[position] == value for position, value in wanted)
                return fits
            return True

        return candidate

    def call(self, call_id: int) -> Call | None:
        with self._lock:
            index = self._calls.index_of(call_id)
            return None if index is None else self._calls.call(index)

    def attempts(self, call_id: int) -> int:
        """How many copies of this call arrived (1 unless the SDK resent its messageId), counting the
        attempts an injected fault answered."""
        return self._attempts.get(call_id, 1)

    def requests(self, query: RequestQuery | None = None) -> list[RequestRecord]:
        query = query or RequestQuery()
        wanted = [
            (position, value)
            for position, value in (
                (REQUEST_WRITE_KEY, query.write_key),
                (REQUEST_STATUS, query.status),
                (REQUEST_ACCEPTED, query.accepted),
            )
            if value is not None
        ]
        found: list[RequestRecord] = []
        with self._lock:
            table = self._requests
            for index in range(table.head, table.stop):
                if query.after is not None and table.field(index, table.ID) <= query.after:
                    continue
                shape = table.shape(index)
                if all(shape[position] == value for position, value in wanted):
                    found.append(table.request(index))
                    if len(found) == query.limit:
                        break
        return found

    def request(self, request_id: int) -> RequestRecord | None:
        with self._lock:
            index = self._requests.index_of(request_id)
            return None if index is None else self._requests.request(index)

    def source(self, write_key: str) -> SourceStatus:
        """The test-connection status of a write key (a copy, safe to keep)."""
        with self._lock:
            partition = self._partitions.get(write_key)
            if partition is None:
                return SourceStatus(write_key)
            status = partition.source
            return SourceStatus(
                **{f.name: getattr(status, f.name) for f in fields(status)} | {"by_type": dict(status.by_type)}
            )

    def write_keys(self) -> list[str]:
        with self._lock:
            return list(self._partitions)

    def __len__(self) -> int:
        return len(self._calls)

    @property
    def ids_in_order(self) -> bool:
        """Whether call ids grow in the order calls were recorded (false once some were restored out
        of order): `after` then pages through the calls."""
        return self._calls.in_order

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
        self,
        count: int = 1,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        query: CallQuery | None = None,
        **filters: Any,
    ) -> WaitResult:
        """Block until `count` calls match, or `timeout` seconds pass; never raises on time-out.
        A `limit` in the query bounds the calls returned, not the count waited for."""
        query = _query(query, filters)
        deadline = time.monotonic() + timeout
        progress = _WaitProgress(query)
        with self._changed:
            self._sync_waits += 1
            try:
                while True:
                    self._gather(progress)
                    remaining = deadline - time.monotonic()
                    if len(progress.found) >= count or remaining <= 0:
                        return progress.result(count)
                    self._changed.wait(remaining)
            finally:
                self._sync_waits -= 1

    async def wait_for_async(
        self,
        count: int = 1,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        query: CallQuery | None = None,
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
        table = self._calls
        new: list[int] = []
        for index in self._newest_first(progress.query.write_key):  # ids grow: stop at the first one seen
            call_id = table.field(index, table.ID)
            if call_id <= progress.seen_up_to:
                break
            new.append(index)
        if new:
            progress.seen_up_to = max(progress.seen_up_to, table.field(new[0], table.ID))
        progress.found.extend(self._matching(reversed(new), progress.query, None))


class _WaitProgress:
    """What a pending wait has found so far."""

    __slots__ = ("clears", "found", "query", "seen_up_to")

    def __init__(self, query: CallQuery) -> None:
        self.query = query
        self.found: list[Call] = []
        self.seen_up_to = 0
        self.clears = -1

    def result(self, count: int) -> WaitResult:
        limit = self.query.limit
        return WaitResult(self.found if limit is None else self.found[:limit], len(self.found) < count)


def _query(query: CallQuery | None, filters: Mapping[str, Any]) -> CallQuery:
    if query is not None and filters:
        raise TypeError("pass either a CallQuery or keyword filters, not both")
    if query is not None:
        return query
    unknown = set(filters) - CALL_QUERY_FIELDS
    if unknown:
        raise TypeError(
            f"unknown call filter(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(CALL_QUERY_FIELDS))}"
        )
    return CallQuery(**filters)
