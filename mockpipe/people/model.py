"""People and objects: what the service would make of the calls of each write key.

The seed's semantics, per write key:
- track, page and screen calls are the person's activity (events), anonymous ones too;
- identify with both anonymousId and userId ties the earlier anonymous activity to the person;
  an identify with neither but a `traits.email` identifies the person by email (the person who
  last had that email in their traits, or a new one); every email seen in a person's traits finds them;
- alias merges the profile of `previousId` (a userId or an anonymousId) into `userId`'s;
- traits merge key by key, the call with the newest `timestamp` winning (arrival order breaks ties);
- group creates or updates the object (`objectTypeId`, default "1") with its traits, and links the
  call's person to it with the `relationshipAttributes` of its traits;
- the semantic events act: User Deleted removes the person, Device Created or Updated and Device
  Deleted maintain its devices (by `context.device.token`), Relationship Deleted and Object Deleted
  remove those, User Suppressed and User Unsuppressed flag the person (their calls are still kept).

The model follows a journal (`from_journal`), so that a journal reloaded from a persistent store
gives the same people. Only accepted calls count, resends of a messageId are ignored. The model
reads the journal's calls when it is read itself, so the emulator's hot path does not pay for it
and no call is held twice; the calls a bounded journal forgets are applied as it forgets them. It
reads them as rows with their JSON (`mockpipe.journal.follow`) and parses each once, keeping of each
event only its time, type and JSON: a first read after a burst of 100,000 calls costs about a third
of what reading them as `Call`s did.
The model is read from any thread: a lock guards it, and readers get frozen snapshots.
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from mockpipe.errors import MockpipeError
from mockpipe.journal.follow import accepted_after
from mockpipe.people.apply import MAX_EVENTS, apply_call
from mockpipe.people.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, cut_page
from mockpipe.people.records import DEFAULT_OBJECT_TYPE_ID, GroupObject, Person

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from mockpipe.journal.follow import RawCall
    from mockpipe.journal.journal import Call, Journal, RequestRecord
    from mockpipe.people.state import ObjectState, PersonState, WriteKeyState

# The names other modules import from here, besides the model: `mockpipe.people` exports them all.
__all__ = [
    "DEFAULT_OBJECT_TYPE_ID",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AmbiguousIdError",
    "GroupObject",
    "Page",
    "People",
    "Person",
]

log = logging.getLogger("mockpipe.people.model")


class AmbiguousIdError(MockpipeError, LookupError):
    """An id names a person (or an object) under several write keys and no write key was given."""

    def __init__(self, what: str, write_keys: Iterable[str]) -> None:
        self.what = what
        self.write_keys = sorted(write_keys)
        super().__init__(what)

    def __str__(self) -> str:
        return f"{self.what} exists under several write keys ({', '.join(self.write_keys)}); pass a write key"


# -- the model ---------------------------------------------------------------------------------


class People:
    """People and objects per write key, from the accepted calls of a journal."""

    MAX_EVENTS = MAX_EVENTS  # recent events kept per person
    CATCH_UP_SLICE = 1000  # calls applied per hold of the lock (5 to 10 ms)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # An entry per thread waiting for the lock for a short hold (`_held`): a read applying a burst lets
        # go of the lock between slices for them, and only for them. List appends and pops are atomic.
        self._waiting: list[None] = []
        self._partitions: dict[str, WriteKeyState] = {}
        # Calls are not copied here: the model reads them from the journal it follows when it is read.
        self._journal: Journal | None = None
        self._applied_up_to = 0  # the journal's calls up to this id are applied
        self._dropped: deque[Call] = deque()  # calls a bounded journal forgot before they were applied
        # Guards `_dropped` alone: the journal adds to it under its own lock, without this model's.
        self._dropped_lock = threading.Lock()
        self._pending: deque[RawCall] = deque()  # given to `apply`, applied at the next read
        self._detach: list[Callable[[], None]] = []

    @classmethod
    def from_journal(cls, journal: Journal) -> People:
        """A model of `journal`'s current calls, kept up to date with the calls it records next."""
        people = cls()
        people.attach(journal)
        return people

    def attach(self, journal: Journal) -> None:
        """Take `journal`'s calls in order, then follow it (new calls, and clears)."""
        with self._held():
            self._journal, self._applied_up_to = journal, 0
            self._detach.append(journal.on_drop(self._on_drop))
            if journal.max_calls is not None:  # only a bounded journal forgets calls: nothing to do per request else
                self._detach.append(journal.subscribe(self._on_record))
            self._detach.append(journal.on_clear(self.clear))

    def detach(self) -> None:
        """Stop following the journal."""
        while self._detach:
            self._detach.pop()()
        self._journal = None

    def _on_drop(self, calls: list[Call]) -> None:
        with self._dropped_lock:  # called under the journal's lock: only a deque append here
            self._dropped.extend(calls)

    def _on_record(self, request: RequestRecord, calls: list[Call]) -> None:
        # A bounded journal forgot calls not applied yet: apply them now, they are not kept. Unless someone
        # holds the lock: a read applying calls, which takes these too. It may be this very thread, in a
        # read whose journal records the requests it answered before processing them: no waiting then.
        if self._dropped and self._lock.acquire(blocking=False):
            try:
                self._apply_all(self._take_dropped())
            finally:
                self._lock.release()

    def apply(self, calls: Iterable[Call]) -> None:
        """Feed calls in the order they were received (accepted, first copies only count)."""
        with self._held():
            self._pending.extend(_raw_calls(calls))

    @contextlib.contextmanager
    def _held(self) -> Iterator[None]:
        """The lock, for a short hold (a listener, a feed, a clear): a read applying a burst lets it in
        between two slices."""
        self._waiting.append(None)
        try:
            self._lock.acquire()
        finally:
            self._waiting.pop()
        try:
            yield
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def _caught_up(self) -> Iterator[None]:
        """Hold the lock, with every call received so far applied.

        A read after a burst of calls may have tens of thousands to apply (about 5 µs each). They
        are applied in slices, letting go of the lock between them: a clear or a feed (`_held`), which
        may come from the server's event loop, waits for one slice (and, when requests were answered
        while this read started, for the journal to process them). (The bounded journal's listener
        does not wait at all: see `_on_record`.)
        """
        journal = self._journal
        if journal is not None:  # the requests answered so far processed first, without holding this lock
            journal.backlog.catch_up()
        while True:
            self._lock.acquire()
            try:
                calls, more = self._next_slice(self.CATCH_UP_SLICE)
                self._apply_all(calls)
            except BaseException:
                self._lock.release()
                raise
            if not more:
                break
            self._lock.release()
            if self._waiting:  # let a waiting listener take the lock before this thread takes it again
                time.sleep(0)  # (not otherwise: on a busy machine, each yield of the CPU can cost milliseconds)
        try:
            yield
        finally:
            self._lock.release()

    def _next_slice(self, limit: int) -> tuple[list[RawCall], bool]:
        """Up to about `limit` calls to apply next, in order, and whether more wait (the lock is held)."""
        if self._pending:
            return [self._pending.popleft() for _ in range(min(limit, len(self._pending)))], True
        if self._journal is None:
            return [], False
        # Paged by id while ids grow along the journal; calls restored out of order are read at once. Their
        # JSON is parsed once, by `apply_call`: a `Journal.calls` would parse it too, to make each a `Call`.
        found, more = accepted_after(self._journal, self._applied_up_to, limit)
        # Read after the journal: a call it forgot meanwhile is in `_dropped` by now.
        dropped = self._take_dropped()
        if dropped:
            found = sorted({call[0]: call for call in dropped + found}.values(), key=lambda call: call[0])
        if found:
            self._applied_up_to = max(self._applied_up_to, max(call[0] for call in found))
        return found, more

    def _take_dropped(self) -> list[RawCall]:
        """The calls the journal forgot that are still to apply (the lock is held)."""
        with self._dropped_lock:
            dropped = [call for call in self._dropped if call.id > self._applied_up_to]
            self._dropped.clear()
        if dropped:
            self._applied_up_to = max(self._applied_up_to, max(call.id for call in dropped))
        return _raw_calls(dropped)

    def _apply_all(self, calls: Iterable[RawCall]) -> None:
        for call in calls:
            self._apply_safely(call)

    def clear(self, write_key: str | None = None) -> None:
        """Forget everyone, or the people and objects of one write key."""
        with self._held():
            if write_key is None:
                self._partitions.clear()
                self._pending.clear()
                with self._dropped_lock:
                    self._dropped.clear()
            else:
                self._partitions.pop(write_key, None)
                self._pending = deque(call for call in self._pending if call[1] != write_key)
                with self._dropped_lock:  # filtered in place: the journal keeps adding to this deque
                    kept = [call for call in self._dropped if call.write_key != write_key]
                    self._dropped.clear()
                    self._dropped.extend(kept)

    # -- reading -------------------------------------------------------------------------------

    def write_keys(self) -> list[str]:
        with self._caught_up():
            return list(self._partitions)

    def person(self, person_id: str, *, write_key: str | None = None) -> Person | None:
        """The person with this userId, anonymousId, aliased id or any email seen in their traits, or None.

        Without `write_key`, the only write key that knows the id is used. Raises
        `AmbiguousIdError` when several do.
        """
        person_id = str(person_id)
        with self._caught_up():
            if write_key is not None:
                partition = self._partitions.get(write_key)
                found = partition.find(person_id) if partition is not None else None
                return found.snapshot(write_key) if found is not None else None
            matches = [
                (key, found)
                for key, partition in self._partitions.items()
                if (found := partition.find(person_id)) is not None
            ]
            if len(matches) > 1:
                raise AmbiguousIdError(f"person {person_id!r}", (key for key, _ in matches))
            return matches[0][1].snapshot(matches[0][0]) if matches else None

    def people(self, write_key: str | None = None) -> list[Person]:
        """Everyone (of one write key), in the order they first appeared."""
        with self._caught_up():
            return [person.snapshot(key) for key, person in self._people_in_order(write_key)]

    def people_page(
        self,
        write_key: str | None = None,
        *,
        after: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        id_contains: str | None = None,
    ) -> Page[Person]:
        """At most `limit` people (of one write key; with an id containing `id_contains`), in the order
        they first appeared, from after the cursor `after` (the `next` of the previous page).

        Raises `ValueError` for a `limit` outside 1 to `MAX_PAGE_SIZE` or a negative `after`.
        """
        with self._caught_up():
            rows = self._people_in_order(write_key)
            if id_contains:
                rows = ((key, person) for key, person in rows if person.has_id_containing(id_contains))
                found = list(rows)  # the total needs them all: cheap next to a snapshot
                total = len(found)
                rows = iter(found)
            else:
                total = sum(len(p.people) for key, p in self._partitions.items() if write_key in (None, key))
            page, next_after = cut_page(rows, after, limit, lambda row: row[1].seq)
            return Page([person.snapshot(key) for key, person in page], next_after, total)

    def _people_in_order(self, write_key: str | None) -> Iterator[tuple[str, PersonState]]:
        """(write key, person) by creation: each partition keeps its people in that order."""
        # Each stream is built by a function: a generator written inline would read the loop's `key` when
        # it runs, after the loop, and file everyone under the last write key.
        streams = [
            _people_stream(key, partition) for key, partition in self._partitions.items() if write_key in (None, key)
        ]
        return ((key, person) for _, key, person in heapq.merge(*streams))

    def object(
        self, object_id: str, object_type_id: str = DEFAULT_OBJECT_TYPE_ID, *, write_key: str | None = None
    ) -> GroupObject | None:
        """An object and its related people; without `write_key`, the only write key that has it.

        Raises `AmbiguousIdError` when several write keys have such an object.
        """
        key = (str(object_type_id), str(object_id))
        with self._caught_up():
            matches = [
                wk
                for wk, partition in self._partitions.items()
                if (write_key is None or wk == write_key) and key in partition.objects
            ]
            if len(matches) > 1:
                raise AmbiguousIdError(f"object {key[1]!r} of type {key[0]!r}", matches)
            return self._object_snapshot(matches[0], key) if matches else None

    def objects(self, write_key: str | None = None, object_type_id: str | None = None) -> list[GroupObject]:
        """Every object (of one write key, of one type), in the order they first appeared."""
        with self._caught_up():
            return [self._object_snapshot(wk, key) for wk, key, _ in self._objects_in_order(write_key, object_type_id)]

    def objects_page(
        self,
        write_key: str | None = None,
        object_type_id: str | None = None,
        *,
        after: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[GroupObject]:
        """At most `limit` objects, as `objects`, from after the cursor `after` (see `people_page`)."""
        with self._caught_up():
            rows = list(self._objects_in_order(write_key, object_type_id))
            page, next_after = cut_page(iter(rows), after, limit, lambda row: row[2].seq)
            return Page([self._object_snapshot(wk, key) for wk, key, _ in page], next_after, len(rows))

    def _objects_in_order(
        self, write_key: str | None, object_type_id: str | None
    ) -> Iterator[tuple[str, tuple[str, str], ObjectState]]:
        type_id = None if object_type_id is None else str(object_type_id)
        streams = [
            _objects_stream(wk, partition, type_id)
            for wk, partition in self._partitions.items()
            if write_key in (None, wk)
        ]
        return ((wk, key, state) for _, wk, key, state in heapq.merge(*streams))

    def _object_snapshot(self, write_key: str, key: tuple[str, str]) -> GroupObject:
        partition = self._partitions[write_key]
        state = partition.objects[key]
        related = {}
        for person in partition.people.values():
            attrs = person.relationships.get(key)
            if attrs is not None:
                related[person.index_keys()[0][1]] = copy.deepcopy(attrs.values)
        return GroupObject(
            write_key,
            key[0],
            key[1],
            copy.deepcopy(state.traits.values),
            related,
            state.first_seen.text,
            state.last_seen.text,
        )

    def _apply_safely(self, call: RawCall) -> None:
        try:
            apply_call(self._partitions, call)
        except Exception:  # one odd call must not stop the others of its batch
            log.exception("people: could not apply call %s", call[0])


def _raw_calls(calls: Iterable[Call]) -> list[RawCall]:
    """The calls that count (accepted, first copies), as the journal's followers read them."""
    return [
        (call.id, call.write_key, call.type, call.received_at, call.raw)
        for call in calls
        if call.accepted and call.duplicate_of is None
    ]


# -- the streams merged by creation (functions, so that each binds its own write key) -------------


def _people_stream(key: str, partition: WriteKeyState) -> Iterator[tuple[int, str, PersonState]]:
    return ((person.seq, key, person) for person in partition.people.values())


def _objects_stream(
    wk: str, partition: WriteKeyState, type_id: str | None
) -> Iterator[tuple[int, str, tuple[str, str], ObjectState]]:
    return (
        (state.seq, wk, key, state) for key, state in partition.objects.items() if type_id is None or key[0] == type_id
    )
