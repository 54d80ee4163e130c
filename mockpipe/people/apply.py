"""How one accepted call changes the people and objects of its write key (the seed's semantics: see
`mockpipe.people.model`): identify, alias and group merge identities and traits, track, page and
screen add events, and the semantic events delete, suppress and maintain devices and relationships."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.journal.follow import received_text
from mockpipe.journal.packed import id_text
from mockpipe.people.records import DEFAULT_OBJECT_TYPE_ID
from mockpipe.people.state import Attributes, DeviceState, Moment, ObjectState, PersonState, WriteKeyState
from mockpipe.spec.times import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.journal.follow import RawCall
    from mockpipe.types import JSONObject

MAX_EVENTS = 100  # recent events kept per person
# Keys of group traits that steer the call instead of describing the object.
_GROUP_CONTROL_TRAITS = ("object_type_id", "objectTypeId", "relationshipAttributes")
_VIEWS = frozenset(("page", "screen"))
# The track events that act on people and objects, besides being events.
_SEMANTIC = frozenset(
    (
        "Object Deleted",
        "User Deleted",
        "Device Created or Updated",
        "Device Deleted",
        "Relationship Deleted",
        "User Suppressed",
        "User Unsuppressed",
    )
)


def apply_call(partitions: dict[str, WriteKeyState], call: RawCall) -> None:
    """Change the people and objects of the call's write key as the service would.

    The call is its JSON as the journal keeps it (`mockpipe.journal.follow`), parsed here once; its
    ids are read as the journal indexes them (`index_fields`: numbers as text, "" as no id)."""
    _, write_key, call_type, received, raw = call
    payload = orjson.loads(raw)
    if payload.__class__ is not dict:  # restored from elsewhere, not a call: it describes no one
        return
    partition = partitions.get(write_key)
    if partition is None:
        partition = partitions[write_key] = WriteKeyState()
    text = payload.get("timestamp")  # `_moment`, with the lookup of a time read lately inline
    moment = _MOMENTS.get(text) if text.__class__ is str else None
    if moment is None:
        moment = _moment(payload, received)
    user_id, anonymous_id = payload.get("userId"), payload.get("anonymousId")
    # Strings and nulls, as nearly all calls have them, without a call to id_text (this runs per call).
    if user_id is not None and not (user_id.__class__ is str and user_id):
        user_id = id_text(user_id)
    if anonymous_id is not None and not (anonymous_id.__class__ is str and anonymous_id):
        anonymous_id = id_text(anonymous_id)
    if call_type == "track":
        _track(partition, user_id, anonymous_id, payload, moment, raw)
    elif call_type == "identify":
        _identify(partition, user_id, anonymous_id, payload, moment)
    elif call_type in _VIEWS:
        # A view is activity like a track: it makes the (anonymous) person, tied to them when identified.
        person = _resolve(partition, user_id, anonymous_id, create=True)
        if person is not None:
            _add_event(person, moment, call_type, raw)
    elif call_type == "alias":
        _alias(partition, user_id, payload, moment)
    elif call_type == "group":
        _group(partition, user_id, anonymous_id, payload, moment)


def _identify(
    partition: WriteKeyState, user_id: str | None, anonymous_id: str | None, payload: JSONObject, moment: Moment
) -> None:
    traits = payload.get("traits")
    traits = traits if isinstance(traits, dict) else {}
    email = traits.get("email")
    email = email if isinstance(email, str) and email else None
    if user_id is None and anonymous_id is None:
        if email is None:
            return
        person = partition.index.get(("email", email))
        if person is None:
            person = partition.add(PersonState(emails=[email]))
    else:
        person = _resolve(partition, user_id, anonymous_id, create=True)
        assert person is not None  # created when missing
        if user_id is not None and anonymous_id is not None:
            _tie_anonymous(partition, person, anonymous_id)
        if user_id is not None and email is not None:
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


def _alias(partition: WriteKeyState, user_id: str | None, payload: JSONObject, moment: Moment) -> None:
    previous = _id(payload.get("previousId"))
    if user_id is None or previous is None or previous == user_id:
        return
    person = _resolve(partition, user_id, None, create=True)
    assert person is not None
    source = partition.index.get(("user", previous)) or partition.index.get(("anonymous", previous))
    if source is None:
        person.previous_ids.append(previous)
        partition.index[("user", previous)] = person
    elif source is not person:
        _merge(partition, source, into=person)
    person.seen(moment)


def _group(
    partition: WriteKeyState, user_id: str | None, anonymous_id: str | None, payload: JSONObject, moment: Moment
) -> None:
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
        state = partition.objects[key] = ObjectState(Attributes(), moment, moment)
    state.traits.merge(traits, moment.at, skip=_GROUP_CONTROL_TRAITS)
    state.first_seen = min(state.first_seen, moment)
    state.last_seen = max(state.last_seen, moment)
    person = _resolve(partition, user_id, anonymous_id, create=True)
    if person is None:  # a group call without a person only updates the object
        return
    attributes = traits.get("relationshipAttributes")
    relationship = person.relationships.setdefault(key, Attributes())
    if isinstance(attributes, dict):
        relationship.merge(attributes, moment.at)
    person.seen(moment)


def _track(
    partition: WriteKeyState,
    user_id: str | None,
    anonymous_id: str | None,
    payload: JSONObject,
    moment: Moment,
    raw: bytes,
) -> None:
    event = payload.get("event")
    if event.__class__ is str and event in _SEMANTIC:
        _semantic_track(partition, user_id, anonymous_id, payload, moment, raw, event)
        return
    person = _resolve(partition, user_id, anonymous_id, create=True)
    if person is not None:  # else a track for a group only (groupId, no person)
        _add_event(person, moment, "track", raw)


def _semantic_track(
    partition: WriteKeyState,
    user_id: str | None,
    anonymous_id: str | None,
    payload: JSONObject,
    moment: Moment,
    raw: bytes,
    event: str,
) -> None:
    """A track call whose event acts on the people and objects (and is then an event, most of them)."""
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
        person = _resolve(partition, user_id, None)
        if person is not None:
            partition.remove(person)
        return
    person = _resolve(partition, user_id, anonymous_id, create=True)
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
    _add_event(person, moment, "track", raw)


def _add_event(person: PersonState, moment: Moment, call_type: str, raw: bytes) -> None:
    # The call's JSON, made into an `Event` only when the person is read (most never are).
    events = person.events
    events.append((moment, call_type, raw))
    if len(events) > MAX_EVENTS:
        events.popleft()
    person.seen(moment)


# -- helpers -----------------------------------------------------------------------------------------


def _moment(payload: JSONObject, received: int | str) -> Moment:
    """The call's enriched `timestamp`, or its arrival time when that is not a readable date."""
    text = payload.get("timestamp")
    found = _moment_of(text) if text.__class__ is str else None
    if found is None:
        text = received_text(received)  # made into a text only now: seldom needed
        found = _moment_of(text) or Moment(datetime.now(UTC), text)
    return found


def _moment_of(text: str) -> Moment | None:
    """A time as sent, read (None: not a date `parse_timestamp` reads)."""
    found = _MOMENTS.get(text)
    if found is None:
        parsed = parse_timestamp(text)
        if parsed is None:
            return None
        if len(_MOMENTS) >= _MOMENTS_KEPT:
            _MOMENTS.clear()
        found = _MOMENTS[text] = Moment(parsed, text)
    return found


# Times read lately: the calls of a batch, and of a burst, repeat them (a lookup costs less than a parse).
_MOMENTS: dict[str, Moment] = {}
_MOMENTS_KEPT = 4096


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


def _update_device(person: PersonState, payload: JSONObject, properties: JSONObject, moment: Moment) -> None:
    token = _device_token(payload)
    if token is None:
        return
    device_context = payload["context"]["device"]
    device = person.devices.get(token)
    if device is None:
        device = person.devices[token] = DeviceState(None, Attributes(), moment)
    if moment.at >= device.updated.at:
        device_type = device_context.get("type")
        device.type = device_type if isinstance(device_type, str) else device.type
        device.updated = moment
    # The device's own context fields (model, os version...) and the event's properties.
    device.attributes.merge(device_context, moment.at, skip=("token", "type"))
    device.attributes.merge(properties, moment.at)


def _resolve(
    partition: WriteKeyState, user_id: str | None, anonymous_id: str | None, *, create: bool = False
) -> PersonState | None:
    """The person a call is about: by userId (or an id aliased into one), else by anonymousId."""
    if user_id is not None:
        found = partition.index.get(("user", user_id))
        if found is None and create:
            found = partition.add(PersonState(user_id=user_id))
        return found
    if anonymous_id is not None:
        found = partition.index.get(("anonymous", anonymous_id))
        if found is None and create:
            found = partition.add(PersonState(anonymous_ids=[anonymous_id]))
        return found
    return None


def _tie_anonymous(partition: WriteKeyState, person: PersonState, anonymous_id: str) -> None:
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


def _merge(partition: WriteKeyState, source: PersonState, *, into: PersonState) -> None:
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
    target.events = deque(events[-MAX_EVENTS:])
    for token, device in source.devices.items():
        mine_device = target.devices.get(token)
        if mine_device is None or device.updated.at > mine_device.updated.at:
            target.devices[token] = device
    for key, attrs in source.relationships.items():
        target.relationships.setdefault(key, Attributes()).absorb(attrs)
    target.suppressed = target.suppressed or source.suppressed
    for moment in (source.first_seen, source.last_seen):
        if moment is not None:
            target.seen(moment)
    partition.add(target)  # index the ids it gained
