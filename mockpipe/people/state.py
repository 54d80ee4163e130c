"""The people model's own mutable state, per write key: people, objects, devices and attributes that
remember when each value was set. Only `mockpipe.people` touches it; readers get `records` snapshots."""

from __future__ import annotations

import copy
import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from mockpipe.journal.packed import index_fields
from mockpipe.people.records import Event, Person, PersonDevice, Relationship

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from mockpipe.types import JSONObject

# When a value never set was set: before any call's time, so that the first value of a key always wins.
_NEVER = datetime(1, 1, 1, tzinfo=UTC)
# Creation order of people and objects, across write keys: the lists' order and their paging cursor.
_SEQUENCE = itertools.count(1)


class Moment(NamedTuple):
    """A call's time: parsed for comparisons, as sent for display."""

    at: datetime
    text: str


@dataclass(slots=True)
class Attributes:
    """Values merged key by key, each remembering when it was set, so that newer calls win."""

    values: JSONObject = field(default_factory=dict)
    times: dict[str, datetime] = field(default_factory=dict)

    def merge(self, incoming: Mapping[str, Any], at: datetime, *, skip: Collection[str] = ()) -> None:
        values, times = self.values, self.times
        for key, value in incoming.items():
            if at >= times.get(key, _NEVER) and not (skip and key in skip):
                values[key] = value
                times[key] = at

    def absorb(self, other: Attributes) -> None:
        for key, value in other.values.items():
            at = other.times[key]
            if key not in self.times or at > self.times[key]:
                self.values[key] = value
                self.times[key] = at


@dataclass(slots=True)
class DeviceState:
    type: str | None
    attributes: Attributes
    updated: Moment


@dataclass(slots=True)
class ObjectState:
    traits: Attributes
    first_seen: Moment
    last_seen: Moment
    seq: int = field(default_factory=lambda: next(_SEQUENCE))


@dataclass(slots=True, eq=False)
class PersonState:
    user_id: str | None = None
    anonymous_ids: list[str] = field(default_factory=list)
    previous_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    traits: Attributes = field(default_factory=Attributes)
    # (time, type, JSON) of the recent track, page and screen calls, made into `Event`s only when read.
    events: deque[tuple[Moment, str, bytes]] = field(default_factory=deque)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    relationships: dict[tuple[str, str], Attributes] = field(default_factory=dict)
    suppressed: bool = False
    first_seen: Moment | None = None
    last_seen: Moment | None = None
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

    def seen(self, moment: Moment) -> None:
        at, first, last = moment.at, self.first_seen, self.last_seen
        if first is None or at < first.at:
            self.first_seen = moment
        if last is None or at > last.at:
            self.last_seen = moment

    def snapshot(self, write_key: str) -> Person:
        return Person(
            write_key=write_key,
            user_id=self.user_id,
            anonymous_ids=tuple(self.anonymous_ids),
            previous_ids=tuple(self.previous_ids),
            emails=tuple(self.emails),
            traits=copy.deepcopy(self.traits.values),
            events=tuple(event_of(moment, call_type, raw) for moment, call_type, raw in self.events),
            devices={
                token: PersonDevice(token, d.type, copy.deepcopy(d.attributes.values), d.updated.text)
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


class WriteKeyState:
    """The people and objects of one write key, and an index of every id to its person (the journal
    has a partition per write key of its own: this is the people model's)."""

    __slots__ = ("index", "objects", "people")

    def __init__(self) -> None:
        self.people: dict[int, PersonState] = {}  # by id(): insertion-ordered, removable
        self.index: dict[tuple[str, str], PersonState] = {}
        self.objects: dict[tuple[str, str], ObjectState] = {}

    def add(self, person: PersonState) -> PersonState:
        self.people[id(person)] = person
        for key in person.index_keys():
            self.index[key] = person
        return person

    def remove(self, person: PersonState) -> None:
        self.people.pop(id(person), None)
        for key in person.index_keys():
            if self.index.get(key) is person:
                del self.index[key]

    def find(self, person_id: str) -> PersonState | None:
        for kind in ("user", "anonymous", "email"):
            found = self.index.get((kind, person_id))
            if found is not None:
                return found
        return None


def event_of(moment: Moment, call_type: str, raw: bytes) -> Event:
    """An event of a person, from the JSON of its call (its fields read as the journal indexes them)."""
    payload = orjson.loads(raw)
    properties = payload.get("properties")
    message_id, _, _, event, name = index_fields(payload)
    return Event(
        call_type,
        event if call_type == "track" else name,
        moment.text,
        properties if isinstance(properties, dict) else {},
        message_id,
    )
