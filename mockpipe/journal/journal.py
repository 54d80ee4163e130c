"""The journal: every request the emulator received and every call cut out of them.

Records are packed into rows of integers (`mockpipe.journal.packed`) with each call's JSON kept as bytes,
and read back as `Call` / `RequestRecord` on demand: cheap to keep by the million, and nothing for
the garbage collector to walk.

The journal is written from the server's event loop and read from any thread: a lock guards it, and
`mockpipe.journal.waits` wakes the waiting threads and coroutines. What to read is a query
(`mockpipe.journal.queries`); each write key's calls are a partition (`mockpipe.journal.partitions`).
Listeners (persistence, recorders, live views: `mockpipe.journal.listeners`) are called after each
request is recorded; a durable one (a store, a recording) before its response is sent, so a call is
never acknowledged before it is kept (requests answered ahead of processing: `mockpipe.journal.backlog`).
"""

from __future__ import annotations

import itertools
import logging
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mockpipe.journal.backlog import Backlog
from mockpipe.journal.columns import COLUMNS_FROM, append_columns, count_columns, index_fresh_batch
from mockpipe.journal.counting import MatchCounts
from mockpipe.journal.listeners import JournalListeners, Listener
from mockpipe.journal.packed import (
    CALL_WRITE_KEY,
    KEY_MASK,
    REQUEST_WRITE_KEY,
    CallTable,
    RequestTable,
    text_key,
)
from mockpipe.journal.partitions import (
    CHECK_MASK,
    ID_SHIFT,
    Partition,
    SourceStatus,
    entry,
    entry_accepted,
    entry_id,
    message_check,
)
from mockpipe.journal.queries import CallQuery, RequestQuery, WaitResult
from mockpipe.journal.reading import JournalReads
from mockpipe.journal.records import CALL_FIELDS, Call, RequestRecord, builder, reader
from mockpipe.journal.waits import DEFAULT_WAIT_TIMEOUT, Waiters

if TYPE_CHECKING:
    pass

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "MAX_FAILED_ATTEMPTS",
    "Call",
    "CallQuery",
    "Journal",
    "RequestQuery",
    "RequestRecord",
    "SourceStatus",
    "WaitResult",
]

log = logging.getLogger("mockpipe.journal.journal")

# messageIds of attempts a fault answered, kept per write key until a copy of the call comes through.
MAX_FAILED_ATTEMPTS = 10_000

_NO_KEY = object()  # no write key seen yet (None is one: a call recorded by hand may have none)
_WRITE_KEY = reader(Call, "write_key")  # of a Call, at C speed
# What `_add_run` reads of each call, by name, at C speed.
_COUNTED = reader(Call, "type", "received_at", "valid", "accepted", "duplicate_of")

# A call as a resend: every field but duplicate_of read, then built again with it (`_replace` costs 3x).
_ALL_BUT_DUPLICATE_OF = reader(Call, *(name for name in CALL_FIELDS if name != "duplicate_of"))
_AS_RESEND = builder(Call, *(name for name in CALL_FIELDS if name != "duplicate_of"), "duplicate_of")


class Journal(JournalReads, JournalListeners):
    """The in-memory journal, bounded to `max_calls` calls (oldest dropped and counted) if given.

    A persistent store subscribes as a listener and reloads with `restore`. Its reads (queries and
    waits) are in `JournalReads`.
    """

    def __init__(self, *, max_calls: int | None = None) -> None:
        self.max_calls = max_calls
        self._lock = threading.Lock()
        self.backlog = Backlog()  # requests answered, not processed yet: every read processes them first
        self._calls = CallTable()
        self._requests = RequestTable()
        self._partitions: dict[str, Partition] = {}
        self._attempts: dict[int, int] = {}  # call id -> copies received, for calls that were resent
        self._waiters = Waiters(self._lock, self.backlog)
        self._clears = 0  # bumped by clear(): pending waits start over
        self._counts = MatchCounts()  # the totals of queries, kept for the next page
        self._listeners: list[Listener] = []
        self._durable: list[Listener] = []  # listeners whose failure fails the request
        self._clear_listeners: list[Callable[[str | None], None]] = []
        self._drop_listeners: list[Callable[[list[Call]], None]] = []
        self._annotations: dict[int, dict[str, Any]] = {}  # call id -> side values (forward status, ...)
        self.dropped_calls = 0
        self.dropped_requests = 0
        self.damaged_rows = 0  # rows of a store that could not be read back when it was restored (skipped)
        self._call_ids = itertools.count(1)
        self._request_ids = itertools.count(1)

    # -- writing -------------------------------------------------------------------------------

    def _partition(self, write_key: str) -> Partition:
        """The partition of a write key, made on first use (the lock is held)."""
        partition = self._partitions.get(write_key)
        if partition is None:
            partition = self._partitions[write_key] = Partition(write_key)
        return partition

    def next_request_id(self) -> int:
        """The id of the request about to be recorded. The requests answered before it are processed
        first (`backlog`): ids, and the journal's order, follow the order requests arrived in."""
        self.backlog.catch_up()
        return next(self._request_ids)

    @property
    def has_waiters(self) -> bool:
        """Whether some wait is in progress (read per request: a plain attribute behind it)."""
        return self._waiters.waiting > 0

    @property
    def durable(self) -> bool:
        """Whether a durable listener is subscribed: every request is then processed before its answer."""
        return bool(self._durable)  # read per request: here, where the answer looks

    def wake_waiters(self) -> None:
        """Let every wait look again: a request was answered (and left to the backlog)."""
        with self._lock:
            self._waiters.wake()

    def next_call_id(self) -> int:
        return next(self._call_ids)

    def take_call_ids(self, count: int) -> int:
        """Take `count` call ids at once (the calls of one request); returns the first."""
        first = next(self._call_ids)
        self._call_ids = itertools.count(first + count)
        return first

    def record(self, request: RequestRecord, calls: Iterable[Call] = ()) -> tuple[RequestRecord, list[Call]]:
        """Add a request and its calls; returns them as stored (resends marked `duplicate_of`).

        Whether a call resends one kept before is the messageId index's answer (`Partition.first_entry`):
        nothing is read back, so a resend costs what a fresh call does."""
        stored: list[Call] = []
        calls = calls if isinstance(calls, list | tuple) else list(calls)
        with self._lock:
            if self.max_calls is not None:
                # The calls this request pushes out go first: a resend of one of them is a call of its own.
                self._keep_bound(len(calls))
            if len(calls) >= COLUMNS_FROM and self._record_fresh_batch(calls):
                stored = list(calls)
                calls = ()  # recorded: nothing left for the call-by-call way below
            write_key: object = _NO_KEY
            one_key = True
            attempts = self._attempts
            for call in calls:
                if call.write_key is not write_key:  # the calls of a request share theirs
                    one_key = write_key is _NO_KEY
                    write_key = call.write_key
                    partition = self._partition(write_key)
                    first_by_message = partition.first_by_message
                message_id = call.message_id
                # text_key and message_check, inline: this runs for every call received
                message_key = 0 if message_id is None else hash(message_id) & KEY_MASK or 1
                check = 0 if message_id is None else hash("\x00" + message_id) & CHECK_MASK
                found = first_by_message.get(message_key)
                if found is None:  # the usual case: a new messageId
                    first_by_message[message_key] = call.id << ID_SHIFT | check << 1 | call.accepted
                    if partition.failed_attempts:
                        self._count_failed_attempts(partition, call)
                elif (found >> 1) & CHECK_MASK == check and (found & 1 or not call.accepted):
                    # A resend of the first copy (`Partition.first_entry` and `_first_or_resent`, inline)
                    first_id = found >> ID_SHIFT
                    attempts[first_id] = attempts.get(first_id, 1) + 1
                    call = _AS_RESEND((*_ALL_BUT_DUPLICATE_OF(call), first_id))
                else:  # another messageId with the same key, or a first copy a strict answer turned down
                    call = self._first_or_resent(partition, call, message_key, check)
                stored.append(call)
            if stored and calls:  # the usual request's calls share a write key: no need to sort them by key
                self._append_calls(stored, partition if one_key else None)
            self._append_request(request)
            if self._waiters.waiting:  # tested here: the usual request has no one to wake
                self._waiters.wake()
        self._notify(request, stored)
        return request, stored

    def _record_fresh_batch(self, calls: Sequence[Call]) -> bool:
        """Store a batch's calls a column at a time when none is a resend (`columns.index_fresh_batch`);
        False, with nothing done, otherwise (the lock is held)."""
        write_key = calls[0].write_key
        if write_key is None:
            return False
        partition = self._partition(write_key)
        keys = index_fresh_batch(partition, calls)
        if keys is None:
            return False
        first = append_columns(self._calls, calls, keys)
        self._add_run(partition, calls, range(first, first + len(calls)))
        self._keep_bound()
        return True

    def _first_or_resent(self, partition: Partition, call: Call, message_key: int, check: int) -> Call:
        """`call` when it is the first of its messageId (another one has the same key, or the copies
        before were turned down by a strict answer), else `call` marked as a resend of the first."""
        found = partition.first_entry(call.message_id, message_key, check)
        if found is None or (call.accepted and not entry_accepted(found)):
            self._count_failed_attempts(partition, call)
            partition.index_message(call.message_id, message_key, entry(call.id, check, call.accepted))
            return call
        first_id = entry_id(found)
        self._attempts[first_id] = self._attempts.get(first_id, 1) + 1
        return call._replace(duplicate_of=first_id)

    def _count_failed_attempts(self, partition: Partition, call: Call) -> None:
        """Count into a call the attempts of it that an injected fault answered before it came through."""
        failed = partition.failed_attempts.pop(call.message_id, 0)
        if failed:
            self._attempts[call.id] = 1 + failed

    def count_failed_attempt(self, write_key: str, message_ids: Iterable[str]) -> None:
        """Count an attempt an injected fault answered (the request itself is recorded as usual) into
        `attempts()` of the call with each messageId: the one already kept, or the copy that comes next."""
        self.backlog.catch_up()
        with self._lock:
            partition = self._partition(write_key)
            failed = partition.failed_attempts
            for message_id in message_ids:
                found = partition.first_entry(message_id, text_key(message_id), message_check(message_id))
                if found is not None:
                    first_id = entry_id(found)
                    self._attempts[first_id] = self._attempts.get(first_id, 1) + 1
                else:
                    failed[message_id] = failed.get(message_id, 0) + 1
            while len(failed) > MAX_FAILED_ATTEMPTS:  # calls the client gave up on: forget the oldest
                del failed[next(iter(failed))]

    def _append_calls(self, calls: list[Call], partition: Partition | None = None) -> None:
        """Store calls (the lock is held); `partition` is the one they all belong to, when the caller knows."""
        first = append_columns(self._calls, calls) if len(calls) >= COLUMNS_FROM else self._calls.append(calls)
        if partition is None and (len(calls) == 1 or len(set(map(_WRITE_KEY, calls))) == 1):
            partition = self._partitions[calls[0].write_key]
        if partition is not None:
            self._add_run(partition, calls, range(first, first + len(calls)))
        else:  # calls of several write keys, restored from a store
            offsets: dict[str, list[int]] = {}
            for offset, call in enumerate(calls):
                offsets.setdefault(call.write_key, []).append(offset)
            for write_key, of_key in offsets.items():
                self._add_run(self._partitions[write_key], [calls[at] for at in of_key], [first + at for at in of_key])
        self._keep_bound()

    @staticmethod
    def _add_run(partition: Partition, calls: Sequence[Call], sequences: Iterable[int]) -> None:
        """Add calls of one write key (at `sequences` in the call table) to its partition, and count them
        into its source. Here, not in Partition: this runs for every call received (one module fewer)."""
        partition.rows.extend(sequences)
        if len(calls) >= COLUMNS_FROM:
            count_columns(partition.source, calls)
            return
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
            source = self._partition(request.write_key).source
            source.requests += 1
            if not request.accepted:
                source.rejected_requests += 1
        self._requests.append(request)
        if self.max_calls is not None and len(self._requests) > self.max_calls:
            self._requests.drop_oldest()
            self.dropped_requests += 1

    def clear(self, write_key: str | None = None) -> int:
        """Forget every call and request, or those of one write key; returns how many calls went."""
        self.backlog.catch_up()  # what was answered before is cleared with the rest, after its listeners saw it
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
            self._waiters.wake()
        for clear_listener in self._clear_listeners:
            try:
                clear_listener(write_key)
            except Exception:
                log.exception("journal clear listener %r failed", clear_listener)
        return removed

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
        self.backlog.catch_up()
        with self._lock:
            last_call_id = max(last_call_id, next(self._call_ids) - 1)
            last_request_id = max(last_request_id, next(self._request_ids) - 1)
            for _, group in itertools.groupby(calls, key=lambda call: call.request_id):
                restored = list(group)
                for call in restored:
                    partition = self._partition(call.write_key)
                    if call.duplicate_of is not None:
                        self._attempts[call.duplicate_of] = self._attempts.get(call.duplicate_of, 1) + 1
                    else:
                        message_id = call.message_id
                        found = entry(call.id, message_check(message_id), call.accepted)
                        partition.index_message(message_id, text_key(message_id), found)
                    last_call_id = max(last_call_id, call.id)
                self._append_calls(restored)
            for request in requests:
                self._append_request(request)
                last_request_id = max(last_request_id, request.id)
            self._call_ids = itertools.count(last_call_id + 1)
            self._request_ids = itertools.count(last_request_id + 1)
            self._waiters.wake()

    def annotate(self, call_id: int, name: str, value: Any) -> None:
        """Attach a side value to a call (its forward status, ...): the inspection API shows it as `name`."""
        with self._lock:
            self._annotations.setdefault(call_id, {})[name] = value

    def annotations(self, call_id: int) -> dict[str, Any]:
        """The side values attached to a call (a copy)."""
        with self._lock:
            return dict(self._annotations.get(call_id, ()))
