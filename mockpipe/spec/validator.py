"""The validator: cutting a request into calls, proving a call clean, and every violation of a call.

The emulator asks it about every call it receives, so the common case stays in this one module:
`split_request` cuts a body into calls (one call, or the items of a batch with the batch's shared
fields merged in, each with what the envelope itself got wrong about it); `proves_clean` walks the
dozen keys a call has and proves that no rule can fire, about three times faster than asking every
rule about the fifty keys it might have; `violations_of(item)` is the one entry point for "every
violation of this call": the fast proof first, every rule (`mockpipe.spec.checks`) only for a call it
cannot prove clean. `validate(payload)` is the public form, for a single call or a batch envelope
given from Python (`from mockpipe import validate`).

The proof is conservative: whatever it is unsure of (a wrong type, a semantic event, a group or alias
call, a subclass of str) goes to the full checks, which alone say what is wrong, so it can send a
clean call there but never pass a broken one (tested against every rule of the catalogue).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.spec.checks import every_rule
from mockpipe.spec.fields import (
    CHANNELS,
    CONTEXT_OBJECT_STRINGS,
    CONTEXT_STRINGS,
    DEVICE_TYPES,
    ID_FIELDS,
    KNOWN_KEYS,
    NETWORK_BOOLS,
    SEMANTIC_EVENTS,
    TOP_OBJECTS,
    TOP_STRINGS,
    TOP_TIMES,
    key_region,
    near_miss,
)
from mockpipe.spec.jsonvalues import dumps, json_kind, pointer, show
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.rules import violation
from mockpipe.spec.times import VALID_TIMESTAMPS, is_timestamp
from mockpipe.types import CALL_TYPE_SET, CALL_TYPES

if TYPE_CHECKING:
    from mockpipe.spec.rules import Violation
    from mockpipe.types import JSONObject


# -- cutting a request into calls ------------------------------------------------------------


class Item:
    """One call cut out of a request, before its own checks run.

    A plain class with slots, not a dataclass: one is built for every call received, and most never
    need a list of their own violations, so that list is made only when asked for."""

    __slots__ = ("_violations", "index", "json", "payload", "size", "type")

    def __init__(
        self,
        type: str,
        payload: JSONObject,
        index: int | None = None,
        size: int | None = None,
        violations: list[Violation] | None = None,
        json: bytes | None = None,
    ) -> None:
        self.type = type
        self.payload = payload
        self.index = index
        self.size = size
        self._violations = violations
        self.json = json  # the call's JSON as sent, when it was written out to measure it

    @property
    def violations(self) -> list[Violation]:
        """What the envelope got wrong about this call (a list to append to, made on first use)."""
        found = self._violations
        if found is None:
            found = self._violations = []
        return found

    @property
    def pointer(self) -> str:
        """Where the call sits in its request: "" for a single call, `/batch/<i>` for a batch item."""
        return "" if self.index is None else pointer("batch", self.index)

    def __repr__(self) -> str:
        return f"Item(type={self.type!r}, index={self.index!r}, size={self.size!r}, violations={self._violations!r})"


def split_request(
    path_type: str,
    body: JSONObject,
    *,
    body_size: int | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
    start: int = 0,
    stop: int | None = None,
) -> tuple[list[Item], list[Violation]]:
    """Cut a parsed request body into calls.

    `path_type` is the call type named by the endpoint, or "batch". Batch-level `context` and
    `integrations` are merged into each item (the item's own keys win) and a batch-level `sentAt` is
    copied to items that have none. Returns the items and the violations of the envelope itself.
    With `start` and `stop`, only the batch items `batch[start:stop]` are cut (their indexes stay those
    of the whole batch): a long batch is cut a slice at a time, between which the server does other work.
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

    # Only objects are merged into the items: decided once per request, not once per item.
    shared_context: dict[str, Any] | None = body.get("context")
    shared_integrations: dict[str, Any] | None = body.get("integrations")
    if not isinstance(shared_context, dict):
        shared_context = None
    if not isinstance(shared_integrations, dict):
        shared_integrations = None
    shared_sent_at = body.get("sentAt")
    # No item can exceed the per-call limit when the whole body is within it: skip re-serialising.
    measure = body_size is None or body_size > max_call_bytes
    items: list[Item] = []
    envelope: list[Violation] = []
    for index, raw in enumerate(batch if start == 0 and stop is None else batch[start:stop], start):
        if not isinstance(raw, dict):
            envelope.append(violation("batch.item.object", pointer("batch", index), kind=json_kind(raw)))
            continue
        if shared_context is not None:
            own = raw.get("context")
            raw["context"] = {**shared_context, **own} if isinstance(own, dict) else own or dict(shared_context)
        if shared_integrations is not None:
            own = raw.get("integrations")
            raw["integrations"] = (
                {**shared_integrations, **own} if isinstance(own, dict) else own or dict(shared_integrations)
            )
        if shared_sent_at is not None and raw.get("sentAt") is None:
            raw["sentAt"] = shared_sent_at
        sent = size = None
        if measure:
            try:
                sent = orjson.dumps(raw)
                size = len(sent)
            except orjson.JSONEncodeError:  # nesting orjson cannot write: the journal rejects it when storing
                pass
        declared = raw.get("type")
        if declared.__class__ is str and declared in CALL_TYPE_SET:
            items.append(Item(declared, raw, index, size, None, sent))
        else:
            found = [violation("batch.item.type", "/type", value=show(declared))]
            items.append(Item(declared if isinstance(declared, str) else "unknown", raw, index, size, found, sent))
    return items, envelope


# -- the fast proof ----------------------------------------------------------------------


# Keys whose value is right when it is exactly of one class (or null), and keys that need a closer look.
_TOP_PLAIN: dict[str, type] = {
    **dict.fromkeys((*ID_FIELDS, *(name for name, _ in TOP_STRINGS)), str),
    **dict.fromkeys((name for name, _ in TOP_OBJECTS), dict),
}
_TIME, _CONTEXT, _CHANNEL, _INTEGRATIONS, _SECTION, _CAMPAIGN = range(6)
_TOP_SPECIAL: dict[str, int] = {
    **dict.fromkeys((name for name, _ in TOP_TIMES), _TIME),
    "context": _CONTEXT,
    "channel": _CHANNEL,
    "integrations": _INTEGRATIONS,
}
_CONTEXT_PLAIN: dict[str, type] = {**dict.fromkeys(CONTEXT_STRINGS, str), "traits": dict, "active": bool}
_CONTEXT_SPECIAL: dict[str, int] = {
    **dict.fromkeys(CONTEXT_OBJECT_STRINGS, _SECTION),
    "channel": _CHANNEL,
    "campaign": _CAMPAIGN,
}
_SECTION_STRINGS = {section: frozenset(names) for section, names in CONTEXT_OBJECT_STRINGS.items()}
_CLEAN_TYPES = frozenset(("track", "identify", "page", "screen"))
# Write key -> the region it names (`key_region`), for the keys seen lately; cleared when full.
_KEY_REGIONS: dict[str, str | None] = {}
_KEY_REGIONS_KEPT = 1024


def proves_clean(
    call_type: str,
    call: Mapping[str, Any],
    *,
    size: int | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
    region: str | None = None,
    write_key: str | None = None,
) -> bool:
    """True only when `every_rule` with the same arguments finds nothing; False when it might."""
    return _proves_clean(call_type, call, size, max_call_bytes, region, write_key)


def _proves_clean(
    call_type: str,
    call: Mapping[str, Any],
    size: int | None,
    max_call_bytes: int,
    region: str | None,
    write_key: str | None,
) -> bool:
    """`proves_clean`, with positional arguments: `violations_of` calls it for every call received."""
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
                or (created_at.__class__ is str and (created_at in VALID_TIMESTAMPS or is_timestamp(created_at)))
            ):
                return False
        elif (context := call.get("context")) and context.get("traits"):
            return False
        if call.get("properties"):
            return False
    elif call_type == "screen" and not call.get("name"):
        return False
    if region is not None and write_key:
        # The calls of a request all carry one key: a dict lookup costs less than calling `key_region`'s cache.
        try:
            named = _KEY_REGIONS[write_key]
        except KeyError:
            if len(_KEY_REGIONS) >= _KEY_REGIONS_KEPT:
                _KEY_REGIONS.clear()
            named = _KEY_REGIONS[write_key] = key_region(write_key)
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
            elif known is not None and key not in known and near_miss(key) is not None:
                return False
        elif value is None:
            continue
        elif kind == _TIME:
            if value.__class__ is not str or (value not in VALID_TIMESTAMPS and not is_timestamp(value)):
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
            if name in NETWORK_BOOLS and value.__class__ is not bool:
                return False
        elif (
            section == "page"
            and name == "keywords"
            and (value.__class__ is not list or not all(word.__class__ is str for word in value))
        ):
            return False
    return True


# -- every violation ----------------------------------------------------------------------


def violations_of(
    item: Item, *, max_call_bytes: int = MAX_CALL_BYTES, region: str | None = None, write_key: str | None = None
) -> list[Violation]:
    """Every violation of one call cut out of a request: the envelope's findings about it, then the rules'.

    Paths are JSON pointers inside the call (`Violation.at(item.pointer)` places them in the request).
    This runs for every call the emulator receives: most are proved clean without asking every rule.
    """
    call_type, call, size, own = item.type, item.payload, item.size, item._violations
    if not own and _proves_clean(call_type, call, size, max_call_bytes, region, write_key):
        return []
    found = every_rule(call_type, call, size=size, max_call_bytes=max_call_bytes, region=region, write_key=write_key)
    return own + found if own else found


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
            v.at(item.pointer) for v in violations_of(item, max_call_bytes=max_call_bytes, region=region, write_key=key)
        )
    return found
