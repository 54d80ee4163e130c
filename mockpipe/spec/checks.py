"""The rules of the catalogue asked one by one about a call: what each finds wrong, with JSON pointers.

This is the slow, complete path; `mockpipe.spec.validator` proves most calls clean without it, and
`mockpipe.spec.validator.violations_of` chooses between the two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mockpipe.spec.fields import (
    CHANNELS,
    CONTEXT_SECTIONS,
    CONTEXT_STRING_FIELDS,
    DEVICE_TYPES,
    ID_FIELDS,
    KNOWN_KEYS,
    NETWORK_BOOL_FIELDS,
    SEMANTIC_DEVICE,
    SEMANTIC_EVENTS,
    SEMANTIC_NEEDS_USER,
    SEMANTIC_OBJECT,
    TOP_OBJECTS,
    TOP_STRINGS,
    TOP_TIMES,
    key_region,
    near_miss,
)
from mockpipe.spec.jsonvalues import has_id, is_number, json_kind, pointer, show
from mockpipe.spec.rules import PERSON_TYPES, Violation, violation
from mockpipe.spec.times import VALID_TIMESTAMPS, format_time, is_timestamp

_DIGITS = re.compile(r"[1-9][0-9]*")


def every_rule(
    call_type: str,
    call: Mapping[str, Any],
    *,
    size: int | None,
    max_call_bytes: int,
    region: str | None,
    write_key: str | None,
) -> list[Violation]:
    """Every violation of one call of type `call_type`, every rule asked in turn; paths are JSON pointers
    inside the call. Call `mockpipe.spec.validator.violations_of` instead: it asks only when the fast lane
    cannot prove the call clean."""
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
            known = near_miss(key)
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


def _check_ids(call_type: str, call: Mapping[str, Any], out: list[Violation]) -> None:
    for name in ID_FIELDS:
        value = call.get(name)
        if value is None or isinstance(value, str):
            continue
        if is_number(value):
            out.append(violation("id.number", pointer(name), field=name, value=show(value)))
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


def _check_timestamp(value: Any, path: str, out: list[Violation]) -> None:
    if value is None or (value.__class__ is str and value in VALID_TIMESTAMPS):
        return
    name = path.lstrip("/").replace("/", ".")
    if isinstance(value, str):
        if not is_timestamp(value):
            out.append(violation("timestamp.format", path, field=name, value=show(value)))
    elif is_number(value):
        seconds = value / 1000 if value > 1e11 else value  # larger than ~5000 AD in seconds: milliseconds
        try:
            suggestion = format_time(datetime.fromtimestamp(seconds, UTC))
        except (OverflowError, OSError, ValueError):
            suggestion = "2024-01-02T03:04:05.000Z"
        out.append(violation("timestamp.epoch", path, field=name, value=show(value), suggestion=suggestion))
    else:
        out.append(violation("timestamp.format", path, field=name, value=show(value)))


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
    _check_types(call, TOP_OBJECTS, dict, "an object", out)
    _check_types(call, TOP_STRINGS, str, "a string", out)
    for name, path in TOP_TIMES:
        value = call.get(name)
        if value is not None:
            _check_timestamp(value, path, out)
    channel = call.get("channel")
    if channel is not None and (not isinstance(channel, str) or channel not in CHANNELS):
        out.append(violation("channel.enum", "/channel", field="channel", value=show(channel)))

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
        out.append(violation("channel.enum", "/context/channel", field="context.channel", value=show(channel)))
    _check_types(context, CONTEXT_STRING_FIELDS, str, "a string", out)
    traits = context.get("traits")
    if traits is not None and not isinstance(traits, dict):
        _expect(traits, dict, "an object", "/context/traits", out)
    for section, section_path, strings in CONTEXT_SECTIONS:
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
                out.append(violation("context.device.type.enum", "/context/device/type", value=show(kind)))
        elif section == "network":
            _check_types(sub, NETWORK_BOOL_FIELDS, bool, "a boolean", out)
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
                        value=show(type_id),
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
        out.append(violation("objectTypeId.format", path, field=name, value=show(value)))
