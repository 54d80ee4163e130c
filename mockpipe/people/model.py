"""People and objects: what the service would make of the calls of each write key.

The seed's semantics, per write key:
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
and no call is held twice; the calls a bounded journal forgets are applied as it forgets them.
The model is read from any thread: a lock guards it, and readers get frozen snapshots.
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from mockpipe.errors import MockpipeError
from mockpipe.journal.journal import Call, CallQuery
from mockpipe.spec.times import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from mockpipe.journal.journal import Journal, RequestRecord
    from mockpipe.types import JSONObject

log = logging.getLogger("mockpipe.people.model")

DEFAULT_OBJECT_TYPE_ID = "1"
# Keys of group traits that steer the call instead of describing the object.
_GROUP_CONTROL_TRAITS = ("object_type_id", "objectTypeId", "relationshipAttributes")
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)  # the earliest time there is: any time a call carries wins over none
DEFAULT_PAGE_SIZE = 100  # people or objects per page of `People.people_page` and the HTTP lists
MAX_PAGE_SIZE = 1000
# Creation order of people and objects, across write keys: the lists' order and their paging cursor.
_SEQUENCE = itertools.count(1)
_T = TypeVar("_T")


class AmbiguousIdError(MockpipeError, LookupError):
    """An id names a person (or an object) under several write keys and no write key was given."""

    def __init__(self, what: str, write_keys: Iterable[str]) -> None:
        self.what = what
        self.write_keys = sorted(write_keys)
        super().__init__(what)

    def __str__(self) -> str:
        return f"{self.what} exists under several write keys ({', '.join(self.write_keys)}); pass a write key"


# -- snapshots handed to readers ---------------------------------------------------------------


class Page(NamedTuple, Generic[_T]):
    """One page of a list: its items, the cursor of the next page (pass it as `after`; None on the
    last page) and how many items the whole list holds."""

    items: list[_T]
    next: int | None
    total: int


class Event(NamedTuple):
    """One recent track, page or screen call of a person."""

    type: str
    name: str | None
    timestamp: str
    properties: JSONObject
    message_id: str

    def to_dict(self) -> JSONObject:
        return {
            "type": self.type,
            "name": self.name,
            "timestamp": self.timestamp,
            "properties": self.properties,
            "messageId": self.message_id,
        }


class Device(NamedTuple):
    """A device of a person, from Device Created or Updated: its token, type and other attributes."""

    token: str
    type: str | None
    attributes: JSONObject
    updated_at: str

    def to_dict(self) -> JSONObject:
        return {"token": self.token, "type": self.type, "attributes": self.attributes, "updatedAt": self.updated_at}


class Relationship(NamedTuple):
    """A person's link to an object, with the `relationshipAttributes` its group calls carried."""

    object_type_id: str
    object_id: str
    attributes: JSONObject

    def to_dict(self) -> JSONObject:
        return {"objectTypeId": self.object_type_id, "objectId": self.object_id, "attributes": self.attributes}


@dataclass(frozen=True, slots=True)
class Person:
    """A person as the service would see it after the calls so far (a snapshot, safe to keep).

    `ids` lists every id the person answers to: the userId first, then merged anonymousIds, the
    previous ids merged by alias, and every email seen in their traits.
    """

    write_key: str
    user_id: str | None
    anonymous_ids: tuple[str, ...]
    previous_ids: tuple[str, ...]
    emails: tuple[str, ...]
    traits: JSONObject
    events: tuple[Event, ...]
    devices: dict[str, Device]
    objects: dict[tuple[str, str], Relationship]  # by (objectTypeId, objectId)
    suppressed: bool
    first_seen: str | None
    last_seen: str | None

    @property
    def ids(self) -> tuple[str, ...]:
        head = (self.user_id,) if self.user_id is not None else ()
        return head + self.anonymous_ids + self.previous_ids + self.emails

    def relationship(self, object_id: str, object_type_id: str = DEFAULT_OBJECT_TYPE_ID) -> Relationship | None:
        return self.objects.get((str(object_type_id), str(object_id)))

    def summary(self) -> JSONObject:
        """The person without their events, devices and relationships (counted instead)."""
        return {
            "writeKey": self.write_key,
            "id": self.ids[0] if self.ids else None,
            "userId": self.user_id,
            "anonymousIds": list(self.anonymous_ids),
            "previousIds": list(self.previous_ids),
            "emails": list(self.emails),
            "traits": self.traits,
            "suppressed": self.suppressed,
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "eventCount": len(self.events),
            "deviceCount": len(self.devices),
            "objectCount": len(self.objects),
        }

    def to_dict(self) -> JSONObject:
        return self.summary() | {
            "events": [e.to_dict() for e in self.events],
            "devices": [d.to_dict() for d in self.devices.values()],
            "objects": [r.to_dict() for r in self.objects.values()],
        }


@dataclass(frozen=True, slots=True)
class GroupObject:
    """An object (a group: company, account, course) and the people related to it (by their first id)."""

    write_key: str
    object_type_id: str
    object_id: str
    traits: JSONObject
    people: dict[str, JSONObject]  # person id -> relationship attributes
    first_seen: str
    last_seen: str

    def to_dict(self) -> JSONObject:
        return {
            "writeKey": self.write_key,
            "objectTypeId": self.object_type_id,
            "objectId": self.object_id,
            "traits": self.traits,
            "people": [{"id": pid, "relationshipAttributes": attrs} for pid, attrs in self.people.items()],
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
        }


# -- internal, mutable state -----------------------------------------------------------------


class _Moment(NamedTuple):
    """A call's time: parsed for comparisons, as sent for display."""

    at: datetime
    text: str


@dataclass(slots=True)
class _Attributes:
    """Values merged key by key, each remembering when it was set, so that newer calls win."""

    values: JSONObject = field(default_factory=dict)
    times: dict[str, datetime] = field(default_factory=dict)

    def merge(self, incoming: Mapping[str, Any], at: datetime, *, skip: Iterable[str] = ()) -> None:
        skipped = frozenset(skip)
        for key, value in incoming.items():
            if key in skipped:
                continue
            if at >= self.times.get(key, _EARLIEST):
                self.values[key] = value
                self.times[key] = at

    def absorb(self, other: _Attributes) -> None:
        for key, value in other.values.items():
            at = other.times[key]
            if key not in self.times or at > self.times[key]:
                self.values[key] = value
                self.times[key] = at


@dataclass(slots=True)
class _Device:
    type: str | None
    attributes: _Attributes
    updated: _Moment


@dataclass(slots=True)
class _Object:
    traits: _Attributes
    first_seen: _Moment
    last_seen: _Moment
    seq: int = field(default_factory=lambda: next(_SEQUENCE))


@dataclass(slots=True, eq=False)
class _PersonState:
    user_id: str | None = None
    anonymous_ids: list[str] = field(default_factory=list)
    previous_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    traits: _Attributes = field(default_factory=_Attributes)
    # The calls themselves (already kept by the journal), made into `Event`s only when read.
    events: deque[tuple[_Moment, Call]] = field(default_factory=deque)
    devices: dict[str, _Device] = field(default_factory=dict)
    relationships: dict[tuple[str, str], _Attributes] = field(default_factory=dict)
    suppressed: bool = False
    first_seen: _Moment | None = None
    last_seen: _Moment | None = None
    seq: int = field(default_factory=lambda: next(_SEQUENCE))

    def index_keys(self) -> list[tuple[str, str]]:
        """Its entries in the partition's index."""
        found = [("user", self.user_id)] if self.user_id is not None else []
        found += [("anonymous", a) for a in self.anonymous_ids]
        found += [("user", p) for p in self.previous_ids]
        found += [("email", e) for e in self.emails]
        return found

    @property
    def email_only(self) -> bool:
        """Known by an email alone (an identify with neither userId nor anonymousId)."""
        return self.user_id is None and not self.anonymous_ids and not self.previous_ids

    def has_id_containing(self, text: str) -> bool:
        return any(text in key for _, key in self.index_keys())

    def seen(self, moment: _Moment) -> None:
        if self.first_seen is None or moment.at < self.first_seen.at:
            self.first_seen = moment
        if self.last_seen is None or moment.at > self.last_seen.at:
            self.last_seen = moment

    def snapshot(self, write_key: str) -> Person:
        return Person(
            write_key=write_key,
            user_id=self.user_id,
            anonymous_ids=tuple(self.anonymous_ids),
            previous_ids=tuple(self.previous_ids),
            emails=tuple(self.emails),
            traits=copy.deepcopy(self.traits.values),
            events=tuple(_event(call, moment) for moment, call in self.events),
            devices={
                token: Device(token, d.type, copy.deepcopy(d.attributes.values), d.updated.text)
                for token, d in self.devices.items()
            },
            objects={
                key: Relationship(key[0], key[1], copy.deepcopy(attrs.values))
                for key, attrs in self.relationships.items()
            },
            suppressed=self.suppressed,
            first_seen=self.first_seen.text if self.first_seen else None,
            last_seen=self.last_seen.text if self.last_seen else None,
        )


class _Partition:
    """The people and objects of one write key, and an index of every id to its person."""

    __slots__ = ("index", "objects", "people")

    def __init__(self) -> None:
        self.people: dict[int, _PersonState] = {}  # by id(): insertion-ordered, removable
        self.index: dict[tuple[str, str], _PersonState] = {}
        self.objects: dict[tuple[str, str], _Object] = {}

    def add(self, person: _PersonState) -> _PersonState:
        self.people[id(person)] = person
        for key in person.index_keys():
            self.index[key] = person
        return person

    def remove(self, person: _PersonState) -> None:
        self.people.pop(id(person), None)
        for key in person.index_keys():
            if self.index.get(key) is person:
                del self.index[key]

    def find(self, person_id: str) -> _PersonState | None:
        for kind in ("user", "anonymous", "email"):
            found = self.index.get((kind, person_id))
            if found is not None:
                return found
        return None


# -- the model ---------------------------------------------------------------------------------


class People:
    """People and objects per write key, from the accepted calls of a journal."""

    MAX_EVENTS = 100  # recent events kept per person
    CATCH_UP_SLICE = 500  # queued calls applied per hold of the lock (about 10 ms)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partitions: dict[str, _Partition] = {}
        # Calls are not copied here: the model reads them from the journal it follows when it is read.
        self._journal: Journal | None = None
        self._applied_up_to = 0  # the journal's calls up to this id are applied
        self._dropped: deque[Call] = deque()  # calls a bounded journal forgot before they were applied
        # Guards `_dropped` alone: the journal adds to it under its own lock, without this model's.
        self._dropped_lock = threading.Lock()
        self._pending: deque[Call] = deque()  # given to `apply`, applied at the next read
        self._detach: list[Callable[[], None]] = []

    @classmethod
    def from_journal(cls, journal: Journal) -> People:
        """A model of `journal`'s current calls, kept up to date with the calls it records next."""
        people = cls()
        people.attach(journal)
        return people

    def attach(self, journal: Journal) -> None:
        """Take `journal`'s calls in order, then follow it (new calls, and clears)."""
        with self._lock:
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
        if self._dropped:  # a bounded journal forgot calls not applied yet: apply them now, they are not kept
            with self._lock:
                self._apply_all(self._take_dropped())

    def apply(self, calls: Iterable[Call]) -> None:
        """Feed calls in the order they were received (accepted, first copies only count)."""
        with self._lock:
            self._pending.extend(calls)

    @contextlib.contextmanager
    def _caught_up(self) -> Iterator[None]:
        """Hold the lock, with every call received so far applied.

        A read after a burst of calls may have tens of thousands to apply (about 20 µs each). They
        are applied in slices, letting go of the lock between them: the listener, which takes the
        lock on the server's event loop, never waits for more than one slice.
        """
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
            time.sleep(0)  # let a waiting listener take the lock before this thread takes it again
        try:
            yield
        finally:
            self._lock.release()

    def _next_slice(self, limit: int) -> tuple[list[Call], bool]:
        """Up to about `limit` calls to apply next, in order, and whether more wait (the lock is held)."""
        if self._pending:
            return [self._pending.popleft() for _ in range(min(limit, len(self._pending)))], True
        if self._journal is None:
            return [], False
        # Paged by id while ids grow along the journal; calls restored out of order are read at once.
        page = limit if self._journal.ids_in_order else None
        found = self._journal.calls(CallQuery(after=self._applied_up_to, accepted=True, limit=page))
        # Read after the journal: a call it forgot meanwhile is in `_dropped` by now.
        dropped = self._take_dropped()
        if dropped:
            found = sorted({call.id: call for call in dropped + found}.values(), key=lambda call: call.id)
        if found:
            self._applied_up_to = max(self._applied_up_to, max(call.id for call in found))
        return found, page is not None and len(found) >= page

    def _take_dropped(self) -> list[Call]:
        """The calls the journal forgot that are still to apply (the lock is held)."""
        with self._dropped_lock:
            dropped = [call for call in self._dropped if call.id > self._applied_up_to]
            self._dropped.clear()
        if dropped:
            self._applied_up_to = max(self._applied_up_to, max(call.id for call in dropped))
        return dropped

    def _apply_all(self, calls: Iterable[Call]) -> None:
        for call in calls:
            if call.accepted and call.duplicate_of is None:
                self._apply_safely(call)

    def clear(self, write_key: str | None = None) -> None:
        """Forget everyone, or the people and objects of one write key."""
        with self._lock:
            if write_key is None:
                self._partitions.clear()
                self._pending.clear()
                with self._dropped_lock:
                    self._dropped.clear()
            else:
                self._partitions.pop(write_key, None)
                self._pending = deque(call for call in self._pending if call.write_key != write_key)
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
            page, next_after = _cut(rows, after, limit, lambda row: row[1].seq)
            return Page([person.snapshot(key) for key, person in page], next_after, total)

    def _people_in_order(self, write_key: str | None) -> Iterator[tuple[str, _PersonState]]:
        """(write key, person) by creation: each partition keeps its people in that order."""
        streams = [
            ((person.seq, key, person) for person in partition.people.values())
            for key, partition in self._partitions.items()
            if write_key in (None, key)
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
            page, next_after = _cut(iter(rows), after, limit, lambda row: row[2].seq)
            return Page([self._object_snapshot(wk, key) for wk, key, _ in page], next_after, len(rows))

    def _objects_in_order(
        self, write_key: str | None, object_type_id: str | None
    ) -> Iterator[tuple[str, tuple[str, str], _Object]]:
        type_id = None if object_type_id is None else str(object_type_id)
        streams = [
            (
                (state.seq, wk, key, state)
                for key, state in partition.objects.items()
                if type_id is None or key[0] == type_id
            )
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

    # -- applying calls --------------------------------------------------------------------------

    def _apply_safely(self, call: Call) -> None:
        try:
            self._apply(call)
        except Exception:  # one odd call must not stop the others of its batch
            log.exception("people: could not apply call %s", call.id)

    def _apply(self, call: Call) -> None:
        payload = call.payload
        partition = self._partitions.get(call.write_key)
        if partition is None:
            partition = self._partitions[call.write_key] = _Partition()
        moment = _moment(payload, call.received_at)
        if call.type == "identify":
            self._identify(partition, call, payload, moment)
        elif call.type == "alias":
            self._alias(partition, call, payload, moment)
        elif call.type == "group":
            self._group(partition, call, payload, moment)
        elif call.type == "track":
            self._track(partition, call, payload, moment)
        elif call.type in ("page", "screen"):
            person = _resolve(partition, call.user_id, call.anonymous_id)
            if person is not None:
                self._add_event(person, call, moment)

    def _identify(self, partition: _Partition, call: Call, payload: JSONObject, moment: _Moment) -> None:
        traits = payload.get("traits")
        traits = traits if isinstance(traits, dict) else {}
        email = traits.get("email")
        email = email if isinstance(email, str) and email else None
        if call.user_id is None and call.anonymous_id is None:
            if email is None:
                return
            person = partition.index.get(("email", email))
            if person is None:
                person = partition.add(_PersonState(emails=[email]))
        else:
            person = _resolve(partition, call.user_id, call.anonymous_id, create=True)
            assert person is not None  # created when missing
            if call.user_id is not None and call.anonymous_id is not None:
                _tie_anonymous(partition, person, call.anonymous_id)
            if call.user_id is not None and email is not None:
                by_email = partition.index.get(("email", email))
                if by_email is not None and by_email is not person and by_email.email_only:
                    _merge(partition, by_email, into=person)
        if email is not None:
            # Any email a person had in their traits finds them; if two people had it, the latest.
            if email not in person.emails:
                person.emails.append(email)
            partition.index[("email", email)] = person
        person.traits.merge(traits, moment.at)
        person.seen(moment)

    def _alias(self, partition: _Partition, call: Call, payload: JSONObject, moment: _Moment) -> None:
        previous = _id(payload.get("previousId"))
        if call.user_id is None or previous is None or previous == call.user_id:
            return
        person = _resolve(partition, call.user_id, None, create=True)
        assert person is not None
        source = partition.index.get(("user", previous)) or partition.index.get(("anonymous", previous))
        if source is None:
            person.previous_ids.append(previous)
            partition.index[("user", previous)] = person
        elif source is not person:
            _merge(partition, source, into=person)
        person.seen(moment)

    def _group(self, partition: _Partition, call: Call, payload: JSONObject, moment: _Moment) -> None:
        object_id = _id(payload.get("groupId"))
        if object_id is None:
            return
        traits = payload.get("traits")
        traits = traits if isinstance(traits, dict) else {}
        type_id = (
            _id(payload.get("objectTypeId"))
            or _id(traits.get("object_type_id"))
            or _id(traits.get("objectTypeId"))
            or DEFAULT_OBJECT_TYPE_ID
        )
        key = (type_id, object_id)
        state = partition.objects.get(key)
        if state is None:
            state = partition.objects[key] = _Object(_Attributes(), moment, moment)
        state.traits.merge(traits, moment.at, skip=_GROUP_CONTROL_TRAITS)
        state.first_seen = min(state.first_seen, moment)
        state.last_seen = max(state.last_seen, moment)
        person = _resolve(partition, call.user_id, call.anonymous_id, create=True)
        if person is None:  # a group call without a person only updates the object
            return
        attributes = traits.get("relationshipAttributes")
        relationship = person.relationships.setdefault(key, _Attributes())
        if isinstance(attributes, dict):
            relationship.merge(attributes, moment.at)
        person.seen(moment)

    def _track(self, partition: _Partition, call: Call, payload: JSONObject, moment: _Moment) -> None:
        event = call.event
        properties = payload.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        if event == "Object Deleted":
            key = _object_key(properties)
            if key is not None:
                partition.objects.pop(key, None)
                for related in partition.people.values():
                    related.relationships.pop(key, None)
            return
        if event == "User Deleted":
            person = _resolve(partition, call.user_id, None)
            if person is not None:
                partition.remove(person)
            return
        person = _resolve(partition, call.user_id, call.anonymous_id, create=True)
        if person is None:  # a track for a group only (groupId, no person)
            return
        if event == "Device Created or Updated":
            _update_device(person, payload, properties, moment)
        elif event == "Device Deleted":
            token = _device_token(payload)
            if token is not None:
                person.devices.pop(token, None)
        elif event == "Relationship Deleted":
            key = _object_key(properties)
            if key is not None:
                person.relationships.pop(key, None)
        elif event in ("User Suppressed", "User Unsuppressed"):
            person.suppressed = event == "User Suppressed"
        self._add_event(person, call, moment)

    def _add_event(self, person: _PersonState, call: Call, moment: _Moment) -> None:
        person.events.append((moment, call))
        if len(person.events) > self.MAX_EVENTS:
            person.events.popleft()
        person.seen(moment)


# -- helpers -----------------------------------------------------------------------------------


def _cut(rows: Iterator[_T], after: int | None, limit: int, seq: Callable[[_T], int]) -> tuple[list[_T], int | None]:
    """The `limit` rows after the cursor `after`, and the cursor of the next page (None: no more).

    Raises `ValueError` for a limit outside 1 to `MAX_PAGE_SIZE` or a negative cursor."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, not {limit!r}")
    if after is not None:
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"after must be a cursor (the next of the previous page), not {after!r}")
        rows = itertools.dropwhile(lambda row: seq(row) <= after, rows)
    page = list(itertools.islice(rows, limit + 1))
    if len(page) > limit:
        return page[:limit], seq(page[limit - 1])
    return page, None


def _moment(payload: JSONObject, received_at: str) -> _Moment:
    """The call's enriched `timestamp`, or its arrival time when that is not a readable date."""
    for text in (payload.get("timestamp"), received_at):
        if isinstance(text, str):
            parsed = parse_timestamp(text)
            if parsed is not None:
                return _Moment(parsed, text)
    return _Moment(datetime.now(UTC), received_at)


def _event(call: Call, moment: _Moment) -> Event:
    payload = call.payload
    properties = payload.get("properties")
    name = call.event if call.type == "track" else call.name
    return Event(call.type, name, moment.text, properties if isinstance(properties, dict) else {}, call.message_id)


def _id(value: Any) -> str | None:
    """An id as text: a non-empty string or a number (as SDKs accept); anything else is no id."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _object_key(properties: Mapping[str, Any]) -> tuple[str, str] | None:
    object_id = _id(properties.get("objectId"))
    if object_id is None:
        return None
    return (_id(properties.get("objectTypeId")) or DEFAULT_OBJECT_TYPE_ID, object_id)


def _device_token(payload: JSONObject) -> str | None:
    context = payload.get("context")
    device = context.get("device") if isinstance(context, dict) else None
    token = device.get("token") if isinstance(device, dict) else None
    return token if isinstance(token, str) and token else None


def _update_device(person: _PersonState, payload: JSONObject, properties: JSONObject, moment: _Moment) -> None:
    token = _device_token(payload)
    if token is None:
        return
    device_context = payload["context"]["device"]
    device = person.devices.get(token)
    if device is None:
        device = person.devices[token] = _Device(None, _Attributes(), moment)
    if moment.at >= device.updated.at:
        device_type = device_context.get("type")
        device.type = device_type if isinstance(device_type, str) else device.type
        device.updated = moment
    # The device's own context fields (model, os version...) and the event's properties.
    device.attributes.merge(device_context, moment.at, skip=("token", "type"))
    device.attributes.merge(properties, moment.at)


def _resolve(
    partition: _Partition, user_id: str | None, anonymous_id: str | None, *, create: bool = False
) -> _PersonState | None:
    """The person a call is about: by userId (or an id aliased into one), else by anonymousId."""
    if user_id is not None:
        found = partition.index.get(("user", user_id))
        if found is None and create:
            found = partition.add(_PersonState(user_id=user_id))
        return found
    if anonymous_id is not None:
        found = partition.index.get(("anonymous", anonymous_id))
        if found is None and create:
            found = partition.add(_PersonState(anonymous_ids=[anonymous_id]))
        return found
    return None


def _tie_anonymous(partition: _Partition, person: _PersonState, anonymous_id: str) -> None:
    """identify with both ids: the anonymous profile's activity becomes the person's."""
    owner = partition.index.get(("anonymous", anonymous_id))
    if owner is person:
        return
    if owner is None:
        person.anonymous_ids.append(anonymous_id)
        partition.index[("anonymous", anonymous_id)] = person
    elif owner.user_id is None:
        _merge(partition, owner, into=person)
    else:
        # Someone else identified on this device before: later anonymous calls are this person's,
        # but the earlier person keeps their own history (only alias merges two known people).
        owner.anonymous_ids.remove(anonymous_id)
        person.anonymous_ids.append(anonymous_id)
        partition.index[("anonymous", anonymous_id)] = person


def _merge(partition: _Partition, source: _PersonState, *, into: _PersonState) -> None:
    """Move everything of `source` into `into` and drop `source`."""
    partition.remove(source)
    target = into
    if source.user_id is not None and source.user_id not in target.previous_ids:
        target.previous_ids.append(source.user_id)
    for name in ("anonymous_ids", "previous_ids", "emails"):
        mine: list[str] = getattr(target, name)
        mine.extend(i for i in getattr(source, name) if i not in mine and i != target.user_id)
    target.traits.absorb(source.traits)
    events = sorted([*target.events, *source.events], key=lambda pair: pair[0].at)
    target.events = deque(events[-People.MAX_EVENTS :])
    for token, device in source.devices.items():
        mine_device = target.devices.get(token)
        if mine_device is None or device.updated.at > mine_device.updated.at:
            target.devices[token] = device
    for key, attrs in source.relationships.items():
        target.relationships.setdefault(key, _Attributes()).absorb(attrs)
    target.suppressed = target.suppressed or source.suppressed
    for moment in (source.first_seen, source.last_seen):
        if moment is not None:
            target.seen(moment)
    partition.add(target)  # index the ids it gained
