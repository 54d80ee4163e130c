"""What readers of the people model get: frozen snapshots of a person, an object (a group), and a
person's events, devices and relationships, each with the `to_dict` the HTTP API answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from mockpipe.types import JSONObject

DEFAULT_OBJECT_TYPE_ID = "1"


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


class PersonDevice(NamedTuple):
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
    devices: dict[str, PersonDevice]
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
