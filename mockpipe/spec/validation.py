"""Checks of calls against the rule catalogue: pure functions, no web code.

`validate(payload)` is the public entry point (single calls and batch envelopes alike);
`split_request` and `check_call` are the two steps the emulator runs on every request.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from mockpipe.spec.rules import PERSON_TYPES, Violation, violation
from mockpipe.types import CALL_TYPE_SET, CALL_TYPES, JSONObject

KB = 1024
MAX_CALL_BYTES = 32 * KB
MAX_BATCH_BYTES = 500 * KB

CHANNELS = frozenset(("browser", "server", "mobile"))
DEVICE_TYPES = frozenset(("android", "ios"))
ID_FIELDS = ("userId", "anonymousId", "previousId", "groupId")

# Top-level keys a call may carry; anything else is open, but near-misses of these are flagged.
KNOWN_KEYS = frozenset(
    (
        "type",
        "userId",
        "anonymousId",
        "previousId",
        "groupId",
        "event",
        "name",
        "category",
        "properties",
        "traits",
        "context",
        "integrations",
        "messageId",
        "timestamp",
        "originalTimestamp",
        "sentAt",
        "receivedAt",
        "writeKey",
        "channel",
        "objectTypeId",
        "version",
    )
)
_TYPO_INDEX = {key.lower(): key for key in KNOWN_KEYS}

SEMANTIC_NEEDS_USER = frozenset(
    (
        "Device Created or Updated",
        "Device Deleted",
        "User Deleted",
        "User Suppressed",
        "User Unsuppressed",
        "Relationship Deleted",
    )
)
SEMANTIC_DEVICE = frozenset(("Device Created or Updated", "Device Deleted"))
SEMANTIC_OBJECT = frozenset(("Relationship Deleted", "Object Deleted"))
SEMANTIC_EVENTS = SEMANTIC_NEEDS_USER | SEMANTIC_OBJECT

# Documented string and boolean fields of the context sub-objects (seed and SPEC).
_CONTEXT_OBJECT_STRINGS: dict[str, tuple[str, ...]] = {
    "page": ("name", "path", "referrer", "search", "title", "url"),
    "app": ("name", "version", "build", "namespace"),
    "device": ("id", "advertisingId", "manufacturer", "model", "name", "version", "token"),
    "os": ("name", "version"),
    "library": ("name", "version"),
    "network": ("carrier",),
}
_CONTEXT_STRINGS = ("ip", "locale", "userAgent", "timezone")
_NETWORK_BOOLS = ("bluetooth", "cellular", "wifi")

_REGION_IN_KEY = re.compile(r"(?:^|_)(us|eu)_")
_DIGITS = re.compile(r"[1-9][0-9]*")


def json_kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) to the given keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def parse_timestamp(value: str) -> datetime | None:
    """An ISO-8601 string as an aware datetime (naive ones are taken as UTC), or None."""
    if value[-1:] == "z":  # RFC 3339 allows a lower-case zone designator; fromisoformat does not
        value = value[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=1024)  # a server sees a handful of keys, each on every call
def key_region(write_key: str) -> str | None:
    """The region a write key names (`pk_eu_…`, `…_us_…`), if any."""
    found = _REGION_IN_KEY.search(write_key)
    return found.group(1) if found else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def has_id(value: Any) -> bool:
    """An id is present when it is a non-empty string, or a number (which SDKs accept)."""
    return (isinstance(value, str) and value != "") or _is_number(value)


@dataclass(slots=True)
class Item:
    """One call cut out of a request, before its own checks run."""

    type: str
    payload: JSONObject
    index: int | None = None
    size: int | None = None
    violations: list[Violation] = field(default_factory=list)
    json: bytes | None = None  # the call's JSON as sent, when it was written out to measure it

    @property
    def pointer(self) -> str:
        """Where the call sits in its request: "" for a single call, `/batch/<i>` for a batch item."""
        return "" if self.index is None else pointer("batch", self.index)


def split_request(
    path_type: str, body: JSONObject, *, body_size: int | None = None, max_call_bytes: int = MAX_CALL_BYTES
) -> tuple[list[Item], list[Violation]]:
    """Cut a parsed request body into calls.

    `path_type` is the call type named by the endpoint, or "batch". Batch-level `context` and
    `integrations` are merged into each item (the item's own keys win) and a batch-level `sentAt` is
    copied to items that have none. Returns the items and the violations of the envelope itself.
    """
    if path_type != "batch":
        item = Item(path_type, body, None, body_size)
        declared = body.get("type")
        if isinstance(declared, str) and declared != path_type:
            item.violations.append(violation("type.mismatch", "/type", body_type=declared, type=path_type))
        return [item], []

    batch = body.get("batch")
    if not isinstance(batch, list):
        return [], [violation("batch.type", "/batch", kind=json_kind(batch))]
    if not batch:
        return [], [violation("batch.empty", "/batch")]

    shared_context = body.get("context")
    shared_integrations = body.get("integrations")
    shared_sent_at = body.get("sentAt")
    # No item can exceed the per-call limit when the whole body is within it: skip re-serialising.
    measure = body_size is None or body_size > max_call_bytes
    items: list[Item] = []
    envelope: list[Violation] = []
    for index, raw in enumerate(batch):
        if not isinstance(raw, dict):
            envelope.append(violation("batch.item.object", pointer("batch", index), kind=json_kind(raw)))
            continue
        if isinstance(shared_context, dict):
            own = raw.get("context")
            raw["context"] = {**shared_context, **own} if isinstance(own, dict) else own or dict(shared_context)
        if isinstance(shared_integrations, dict):
            own = raw.get("integrations")
            raw["integrations"] = (
                {**shared_integrations, **own} if isinstance(own, dict) else own or dict(shared_integrations)
            )
        if shared_sent_at is not None and raw.get("sentAt") is None:
            raw["sentAt"] = shared_sent_at
        declared = raw.get("type")
        item = Item(declared if isinstance(declared, str) else "unknown", raw, index)
        if declared.__class__ is not str or declared not in CALL_TYPE_SET:
            item.violations.append(violation("batch.item.type", "/type", value=_show(declared)))
        if measure:
            try:
                item.json = orjson.dumps(raw)
                item.size = len(item.json)
            except orjson.JSONEncodeError:  # nesting orjson cannot write: the journal rejects it when storing
                item.size = None
        items.append(item)
    return items, envelope


def check_call(
    call_type: str,
    call: Mapping[str, Any],
    *,
    size: int | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
    region: str | None = None,
    write_key: str | None = None,
) -> list[Violation]:
    """Every violation of one call of type `call_type`; paths are JSON pointers inside the call."""
    if proves_clean(call_type, call, size=size, max_call_bytes=max_call_bytes, region=region, write_key=write_key):
        return []
    return every_violation(
        call_type, call, size=size, max_call_bytes=max_call_bytes, region=region, write_key=write_key
    )


def every_violation(
    call_type: str,
    call: Mapping[str, Any],
    *,
    size: int | None,
    max_call_bytes: int,
    region: str | None,
    write_key: str | None,
) -> list[Violation]:
    """`check_call` without the fast lane: every rule asked in turn."""
    out: list[Violation] = []
    _check_ids(call_type, call, out)
    _check_common(call, out)
    if call_type == "track":
        _check_track(call, out)
    elif call_type == "identify":
        _check_identify(call, out)
    elif call_type == "group":
        _check_group(call, out)
    elif call_type == "alias":
        _check_alias(call, out)
    elif call_type == "screen" and not call.get("name"):
        out.append(violation("screen.name.missing", "/name"))
    for key in call:
        if key not in KNOWN_KEYS:
            known = _TYPO_INDEX.get(key.lower().replace("_", "").replace("-", ""))
            if known is not None:
                out.append(violation("key.typo", pointer(key), field=key, known=known))
    if size is not None and size > max_call_bytes:
        out.append(violation("call.too_large", "", size=size, limit=max_call_bytes))
    if region is not None and write_key:
        named = key_region(write_key)
        if named is not None and named != region:
            out.append(
                violation(
                    "writeKey.region",
                    "/writeKey" if "writeKey" in call else "",
                    key=write_key,
                    key_region=named,
                    region=region,
                )
            )
    return out


def validate(
    payload: Mapping[str, Any],
    *,
    call_type: str | None = None,
    region: str | None = None,
    write_key: str | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
) -> list[Violation]:
    """Every violation of a single call or a batch envelope, with JSON pointers into `payload`.

    The call type comes from `call_type` (an endpoint name or "batch"), else from the payload:
    "batch" when it has a `batch` key, otherwise its `type`.
    """
    if call_type is None:
        call_type = "batch" if "batch" in payload else payload.get("type")
    if call_type != "batch" and call_type not in CALL_TYPES:
        raise ValueError(
            f"cannot tell which call this is ({call_type!r}): pass call_type= "
            f"({', '.join(CALL_TYPES)} or batch), or give the payload a type"
        )
    encoded = dumps(payload)
    body = orjson.loads(encoded)  # a private copy: splitting merges batch context into items
    key = write_key if write_key is not None else body.get("writeKey")
    key = key if isinstance(key, str) else None
    size = None if call_type == "batch" else len(encoded)
    items, found = split_request(call_type, body, body_size=size, max_call_bytes=max_call_bytes)
    for item in items:
        found.extend(
            v.at(item.pointer) for v in check_item(item, max_call_bytes=max_call_bytes, region=region, write_key=key)
        )
    return found


def check_item(
    item: Item, *, max_call_bytes: int = MAX_CALL_BYTES, region: str | None = None, write_key: str | None = None
) -> list[Violation]:
    """Every violation of one call cut out of a request: the envelope's findings about it, then its checks."""
    return item.violations + check_call(
        item.type, item.payload, size=item.size, max_call_bytes=max_call_bytes, region=region, write_key=write_key
    )


def dumps(value: Any) -> bytes:
    """JSON bytes of a payload given from Python, which may hold what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _show(value: Any) -> str:
    """A short JSON rendering of a value for messages."""
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # integers beyond 64 bits, nesting beyond orjson's limit
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_ids(call_type: str, call: Mapping[str, Any], out: list[Violation]) -> None:
    for name in ID_FIELDS:
        value = call.get(name)
        if value is None or isinstance(value, str):
            continue
        if _is_number(value):
            out.append(violation("id.number", pointer(name), field=name, value=_show(value)))
        else:
            out.append(violation("id.type", pointer(name), field=name, kind=json_kind(value)))
    if call_type not in PERSON_TYPES or has_id(call.get("userId")) or has_id(call.get("anonymousId")):
        return
    if call_type == "identify":
        traits = call.get("traits")
        if isinstance(traits, dict) and isinstance(traits.get("email"), str) and traits["email"]:
            return
        alternative = " (nor traits.email)"
    elif call_type == "track":
        if has_id(call.get("groupId")):
            return
        alternative = " (nor groupId)"
    else:
        alternative = ""
    out.append(violation("identity.required", "/userId", type=call_type, alternative=alternative))


def _expect(value: Any, expected_type: type, expected: str, path: str, out: list[Violation]) -> bool:
    """Flag `value` unless it is null or of `expected_type`; True when it is a usable value."""
    if value is None:
        return False
    if isinstance(value, expected_type) and not (expected_type is not bool and isinstance(value, bool)):
        return True
    out.append(
        violation(
            "field.type", path, field=path.lstrip("/").replace("/", "."), expected=expected, kind=json_kind(value)
        )
    )
    return False


def _object(value: Any, path: str, out: list[Violation]) -> Mapping[str, Any] | None:
    """`value` when it is an object; flags it unless it is null."""
    return value if _expect(value, dict, "an object", path, out) else None


# Timestamps found valid lately: the calls of a batch, and an SDK's sentAt, repeat them.
_VALID_TIMESTAMPS: dict[str, None] = {}
_VALID_TIMESTAMPS_KEPT = 4096


def _valid_timestamp(value: str) -> bool:
    """Whether a text is a timestamp the rules accept (remembered when it is)."""
    if value in _VALID_TIMESTAMPS:
        return True
    if parse_timestamp(value) is None:
        return False
    if len(_VALID_TIMESTAMPS) >= _VALID_TIMESTAMPS_KEPT:
        _VALID_TIMESTAMPS.clear()
    _VALID_TIMESTAMPS[value] = None
    return True


def _check_timestamp(value: Any, path: str, out: list[Violation]) -> None:
    if value is None or (value.__class__ is str and value in _VALID_TIMESTAMPS):
        return
    name = path.lstrip("/").replace("/", ".")
    if isinstance(value, str):
        if not _valid_timestamp(value):
            out.append(violation("timestamp.format", path, field=name, value=_show(value)))
    elif _is_number(value):
        seconds = value / 1000 if value > 1e11 else value  # larger than ~5000 AD in seconds: milliseconds
        try:
            suggestion = datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            suggestion = "2024-01-02T03:04:05.000Z"
        out.append(violation("timestamp.epoch", path, field=name, value=_show(value), suggestion=suggestion))
    else:
        out.append(violation("timestamp.format", path, field=name, value=_show(value)))


def _fields(prefix: tuple[str, ...], names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(key, JSON pointer) pairs, computed once: building pointers per call was most of the validator's time."""
    return tuple((name, pointer(*prefix, name)) for name in names)


_TOP_OBJECTS = _fields((), ("properties", "traits"))
_TOP_STRINGS = _fields((), ("event", "name", "category", "messageId", "writeKey"))
_TOP_TIMES = _fields((), ("timestamp", "originalTimestamp", "sentAt"))
_CONTEXT_STRING_FIELDS = _fields(("context",), _CONTEXT_STRINGS)
_CONTEXT_SECTIONS = tuple(
    (section, pointer("context", section), _fields(("context", section), strings))
    for section, strings in _CONTEXT_OBJECT_STRINGS.items()
)
_NETWORK_BOOL_FIELDS = _fields(("context", "network"), _NETWORK_BOOLS)


def _check_types(
    source: Mapping[str, Any],
    fields: tuple[tuple[str, str], ...],
    expected_type: type,
    expected: str,
    out: list[Violation],
) -> None:
    for name, path in fields:
        value = source.get(name)
        if value is not None and not isinstance(value, expected_type):
            _expect(value, expected_type, expected, path, out)


def _check_common(call: Mapping[str, Any], out: list[Violation]) -> None:
    _check_types(call, _TOP_OBJECTS, dict, "an object", out)
    _check_types(call, _TOP_STRINGS, str, "a string", out)
    for name, path in _TOP_TIMES:
        value = call.get(name)
        if value is not None:
            _check_timestamp(value, path, out)
    channel = call.get("channel")
    if channel is not None and (not isinstance(channel, str) or channel not in CHANNELS):
        out.append(violation("channel.enum", "/channel", field="channel", value=_show(channel)))

    integrations = _object(call.get("integrations"), "/integrations", out)
    if integrations:
        for name, setting in integrations.items():
            if setting is not None and not isinstance(setting, bool | dict):
                out.append(
                    violation(
                        "integrations.value.type", pointer("integrations", name), name=name, kind=json_kind(setting)
                    )
                )

    context = _object(call.get("context"), "/context", out)
    if context:
        _check_context(context, out)


def _check_context(context: Mapping[str, Any], out: list[Violation]) -> None:
    active = context.get("active")
    if active is not None and not isinstance(active, bool):
        out.append(violation("context.active.type", "/context/active", kind=json_kind(active)))
    channel = context.get("channel")
    if channel is not None and (not isinstance(channel, str) or channel not in CHANNELS):
        out.append(violation("channel.enum", "/context/channel", field="context.channel", value=_show(channel)))
    _check_types(context, _CONTEXT_STRING_FIELDS, str, "a string", out)
    traits = context.get("traits")
    if traits is not None and not isinstance(traits, dict):
        _expect(traits, dict, "an object", "/context/traits", out)
    for section, section_path, strings in _CONTEXT_SECTIONS:
        sub = context.get(section)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            _expect(sub, dict, "an object", section_path, out)
            continue
        _check_types(sub, strings, str, "a string", out)
        if section == "device":
            kind = sub.get("type")
            if kind is not None and (not isinstance(kind, str) or kind not in DEVICE_TYPES):
                out.append(violation("context.device.type.enum", "/context/device/type", value=_show(kind)))
        elif section == "network":
            _check_types(sub, _NETWORK_BOOL_FIELDS, bool, "a boolean", out)
        elif section == "page":
            _check_keywords(sub.get("keywords"), out)
    campaign = _object(context.get("campaign"), "/context/campaign", out)
    if campaign:
        for name, value in campaign.items():
            if value is not None and not isinstance(value, str):
                _expect(value, str, "a string", pointer("context", "campaign", name), out)


def _check_keywords(keywords: Any, out: list[Violation]) -> None:
    if keywords is None:
        return
    if not isinstance(keywords, list):
        out.append(
            violation("context.page.keywords.type", "/context/page/keywords", detail=f"got {json_kind(keywords)}")
        )
        return
    for index, word in enumerate(keywords):
        if not isinstance(word, str):
            out.append(
                violation(
                    "context.page.keywords.type",
                    pointer("context", "page", "keywords", index),
                    detail=f"item {index} is {json_kind(word)}",
                )
            )


def _check_track(call: Mapping[str, Any], out: list[Violation]) -> None:
    event = call.get("event")
    if event is None or event == "":
        out.append(violation("track.event.required", "/event"))
        return
    if not isinstance(event, str) or event not in SEMANTIC_EVENTS:
        return  # a non-string event is a field.type error, flagged with the common fields
    if event in SEMANTIC_NEEDS_USER and not has_id(call.get("userId")):
        out.append(violation("semantic.userId.required", "/userId", event=event))
    if event == "Object Deleted" and not has_id(call.get("anonymousId")):
        out.append(violation("semantic.anonymousId.required", "/anonymousId", event=event))
    if event in SEMANTIC_DEVICE:
        context = call.get("context")
        device = context.get("device") if isinstance(context, dict) else None
        token = device.get("token") if isinstance(device, dict) else None
        if not (isinstance(token, str) and token):
            out.append(violation("semantic.device.token.required", "/context/device/token", event=event))
    if event in SEMANTIC_OBJECT:
        properties = call.get("properties")
        object_id = properties.get("objectId") if isinstance(properties, dict) else None
        if not has_id(object_id):
            out.append(violation("semantic.objectId.required", "/properties/objectId", event=event))
        elif isinstance(properties, dict):
            type_id = properties.get("objectTypeId")
            if type_id is not None and not _is_object_type_id(type_id, allow_number=True):
                out.append(
                    violation(
                        "objectTypeId.format",
                        "/properties/objectTypeId",
                        field="properties.objectTypeId",
                        value=_show(type_id),
                    )
                )


def _check_identify(call: Mapping[str, Any], out: list[Violation]) -> None:
    traits = call.get("traits")
    if isinstance(traits, dict):
        _expect(traits.get("email"), str, "a string", "/traits/email", out)
        _check_timestamp(traits.get("createdAt"), "/traits/createdAt", out)
    if call.get("properties"):
        out.append(violation("identify.properties", "/properties"))
    if not traits:
        context = call.get("context")
        if isinstance(context, dict) and isinstance(context.get("traits"), dict) and context["traits"]:
            out.append(violation("identify.traits.context_only", "/context/traits"))


def _check_group(call: Mapping[str, Any], out: list[Violation]) -> None:
    if not has_id(call.get("groupId")):
        out.append(violation("group.groupId.required", "/groupId"))
    _check_object_type_id(call.get("objectTypeId"), "/objectTypeId", out)
    traits = call.get("traits")
    if isinstance(traits, dict):
        _check_object_type_id(traits.get("object_type_id"), "/traits/object_type_id", out)
        _check_object_type_id(traits.get("objectTypeId"), "/traits/objectTypeId", out)
        _expect(traits.get("relationshipAttributes"), dict, "an object", "/traits/relationshipAttributes", out)


def _check_alias(call: Mapping[str, Any], out: list[Violation]) -> None:
    if not has_id(call.get("previousId")):
        out.append(violation("alias.previousId.required", "/previousId"))
    if not has_id(call.get("userId")):
        out.append(violation("alias.userId.required", "/userId"))


def _is_object_type_id(value: Any, *, allow_number: bool) -> bool:
    if isinstance(value, str):
        return _DIGITS.fullmatch(value) is not None
    return allow_number and isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_object_type_id(value: Any, path: str, out: list[Violation]) -> None:
    if value is None:
        return
    name = path.lstrip("/").replace("/", ".")
    if _is_object_type_id(value, allow_number=False):
        return
    if _is_object_type_id(value, allow_number=True):
        out.append(violation("objectTypeId.number", path, field=name, value=value))
    else:
        out.append(violation("objectTypeId.format", path, field=name, value=_show(value)))


# -- the fast lane: proving a call clean ---------------------------------------------------------------
# Most calls break no rule. Walking the dozen keys a call has proves that about three times faster
# than asking every rule about the fifty keys it might have. The proof is conservative: whatever it
# is unsure of (a wrong type, a semantic event, a group or alias call, a subclass of str) goes to the
# full checks, which alone say what is wrong, so it can send a clean call there but never pass a
# broken one (tested against every rule of the catalogue).

# Keys whose value is right when it is exactly of one class (or null), and keys that need a closer look.
_TOP_PLAIN: dict[str, type] = {
    **dict.fromkeys((*ID_FIELDS, *(name for name, _ in _TOP_STRINGS)), str),
    **dict.fromkeys((name for name, _ in _TOP_OBJECTS), dict),
}
_TIME, _CONTEXT, _CHANNEL, _INTEGRATIONS, _SECTION, _CAMPAIGN = range(6)
_TOP_SPECIAL: dict[str, int] = {
    **dict.fromkeys((name for name, _ in _TOP_TIMES), _TIME),
    "context": _CONTEXT,
    "channel": _CHANNEL,
    "integrations": _INTEGRATIONS,
}
_CONTEXT_PLAIN: dict[str, type] = {**dict.fromkeys(_CONTEXT_STRINGS, str), "traits": dict, "active": bool}
_CONTEXT_SPECIAL: dict[str, int] = {
    **dict.fromkeys(_CONTEXT_OBJECT_STRINGS, _SECTION),
    "channel": _CHANNEL,
    "campaign": _CAMPAIGN,
}
_SECTION_STRINGS = {section: frozenset(names) for section, names in _CONTEXT_OBJECT_STRINGS.items()}
_CLEAN_TYPES = frozenset(("track", "identify", "page", "screen"))


def proves_clean(
    call_type: str,
    call: Mapping[str, Any],
    *,
    size: int | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
    region: str | None = None,
    write_key: str | None = None,
) -> bool:
    """True only when `check_call` with the same arguments finds nothing; False when it might."""
    if call_type not in _CLEAN_TYPES or (size is not None and size > max_call_bytes):
        return False
    if not _clean_fields(call, _TOP_PLAIN, _TOP_SPECIAL, KNOWN_KEYS):
        return False
    # Every id is a string or null by now: a person's call needs one of the two ids.
    if not (call.get("userId") or call.get("anonymousId")):
        return False
    if call_type == "track":
        event = call.get("event")
        if not event or event in SEMANTIC_EVENTS:
            return False
    elif call_type == "identify":
        traits = call.get("traits")
        if traits:
            email, created_at = traits.get("email"), traits.get("createdAt")
            if not (email is None or email.__class__ is str) or not (
                created_at is None
                or (created_at.__class__ is str and (created_at in _VALID_TIMESTAMPS or _valid_timestamp(created_at)))
            ):
                return False
        elif (context := call.get("context")) and context.get("traits"):
            return False
        if call.get("properties"):
            return False
    elif call_type == "screen" and not call.get("name"):
        return False
    if region is not None and write_key:
        named = key_region(write_key)
        if named is not None and named != region:
            return False
    return True


def _clean_fields(
    fields: Mapping[str, Any],
    plain: Mapping[str, type],
    special: Mapping[str, int],
    known: frozenset[str] | None,
) -> bool:
    """Whether no rule can fire on these fields (a call's, or its context's): a `plain` key is null or of
    its class, a `special` one passes its own proof, any other key is open, except a near-miss of a
    `known` one (even null) when `known` is given."""
    for key, value in fields.items():
        expected = plain.get(key)
        if value.__class__ is expected:
            continue
        kind = special.get(key)
        if kind is None:
            if expected is not None:  # a plain key: null, or of the wrong class
                if value is not None:
                    return False
            elif (
                known is not None
                and key not in known
                and _TYPO_INDEX.get(key.lower().replace("_", "").replace("-", "")) is not None
            ):
                return False
        elif value is None:
            continue
        elif kind == _TIME:
            if value.__class__ is not str or (value not in _VALID_TIMESTAMPS and not _valid_timestamp(value)):
                return False
        elif kind == _CONTEXT:
            if value.__class__ is not dict or not _clean_fields(value, _CONTEXT_PLAIN, _CONTEXT_SPECIAL, None):
                return False
        elif kind == _SECTION:
            if value.__class__ is not dict or not _clean_section(key, value):
                return False
        elif kind == _CHANNEL:
            if value.__class__ is not str or value not in CHANNELS:
                return False
        elif kind == _INTEGRATIONS:
            if value.__class__ is not dict or not all(
                setting is None or setting.__class__ in (bool, dict) for setting in value.values()
            ):
                return False
        elif kind == _CAMPAIGN:
            if value.__class__ is not dict or not all(
                entry is None or entry.__class__ is str for entry in value.values()
            ):
                return False
        else:  # a kind added without its proof here: let the rules decide
            return False
    return True


def _clean_section(section: str, fields: Mapping[str, Any]) -> bool:
    strings = _SECTION_STRINGS[section]
    for name, value in fields.items():
        if value is None:
            continue
        if name in strings:
            if value.__class__ is not str:
                return False
        elif section == "device":
            if name == "type" and (value.__class__ is not str or value not in DEVICE_TYPES):
                return False
        elif section == "network":
            if name in _NETWORK_BOOLS and value.__class__ is not bool:
                return False
        elif (
            section == "page"
            and name == "keywords"
            and (value.__class__ is not list or not all(word.__class__ is str for word in value))
        ):
            return False
    return True
