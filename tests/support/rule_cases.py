"""One violating and one clean payload per rule of the catalogue, shared by the validation and HTTP tests.

Each case names the endpoint it is sent to ("batch" for envelopes) and, where it matters, the write key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

E = {"userId": "u1", "event": "Signed Up"}


@dataclass(frozen=True)
class RuleCase:
    code: str
    endpoint: str
    bad: dict[str, Any]
    good: dict[str, Any]
    write_key: str = "wk_test"
    good_write_key: str = "wk_test"
    extra: dict[str, Any] = field(default_factory=dict)


def _big(size: int) -> dict[str, Any]:
    return {**E, "properties": {"blob": "x" * size}}


CASES = [
    RuleCase("identity.required", "track", {"event": "E"}, {"event": "E", "anonymousId": "a1"}),
    RuleCase("alias.previousId.required", "alias", {"userId": "u1"}, {"userId": "u1", "previousId": "a1"}),
    RuleCase("alias.userId.required", "alias", {"previousId": "a1"}, {"userId": "u1", "previousId": "a1"}),
    RuleCase("track.event.required", "track", {"userId": "u1"}, E),
    RuleCase("group.groupId.required", "group", {"userId": "u1"}, {"userId": "u1", "groupId": "acme"}),
    RuleCase("id.type", "track", {**E, "userId": {"id": 1}, "anonymousId": "a1"}, E),
    RuleCase("id.number", "track", {**E, "userId": 42}, {**E, "userId": "42"}),
    RuleCase("field.type", "track", {**E, "properties": ["plan"]}, {**E, "properties": {"plan": "pro"}}),
    RuleCase("context.active.type", "track", {**E, "context": {"active": "yes"}}, {**E, "context": {"active": True}}),
    RuleCase("channel.enum", "track", {**E, "context": {"channel": "web"}}, {**E, "context": {"channel": "browser"}}),
    RuleCase(
        "context.device.type.enum",
        "screen",
        {"userId": "u1", "name": "Home", "context": {"device": {"type": "windows"}}},
        {"userId": "u1", "name": "Home", "context": {"device": {"type": "ios"}}},
    ),
    RuleCase(
        "context.page.keywords.type",
        "page",
        {"userId": "u1", "context": {"page": {"keywords": "a,b"}}},
        {"userId": "u1", "context": {"page": {"keywords": ["a", "b"]}}},
    ),
    RuleCase(
        "integrations.value.type",
        "track",
        {**E, "integrations": {"Mixpanel": "yes"}},
        {**E, "integrations": {"Mixpanel": False, "Customer.io": {"x": 1}}},
    ),
    RuleCase("timestamp.format", "track", {**E, "timestamp": "yesterday"}, {**E, "timestamp": "2024-01-02T03:04:05Z"}),
    RuleCase(
        "timestamp.epoch", "track", {**E, "timestamp": 1704164645000}, {**E, "timestamp": "2024-01-02T03:04:05.000Z"}
    ),
    RuleCase(
        "objectTypeId.format",
        "group",
        {"userId": "u1", "groupId": "g1", "traits": {"object_type_id": "team"}},
        {"userId": "u1", "groupId": "g1", "traits": {"object_type_id": "2"}},
    ),
    RuleCase(
        "objectTypeId.number",
        "group",
        {"userId": "u1", "groupId": "g1", "objectTypeId": 2},
        {"userId": "u1", "groupId": "g1", "objectTypeId": "2"},
    ),
    RuleCase("call.too_large", "track", _big(33 * 1024), _big(30 * 1024)),
    RuleCase("writeKey.region", "track", E, E, write_key="pk_eu_abc", good_write_key="pk_us_abc"),
    RuleCase(
        "semantic.userId.required",
        "track",
        {"event": "User Deleted", "anonymousId": "a1"},
        {"event": "User Deleted", "userId": "u1"},
    ),
    RuleCase(
        "semantic.anonymousId.required",
        "track",
        {"event": "Object Deleted", "userId": "u1", "properties": {"objectId": "o1"}},
        {"event": "Object Deleted", "anonymousId": "a1", "properties": {"objectId": "o1", "objectTypeId": 1}},
    ),
    RuleCase(
        "semantic.device.token.required",
        "track",
        {"event": "Device Created or Updated", "userId": "u1"},
        {
            "event": "Device Created or Updated",
            "userId": "u1",
            "context": {"device": {"token": "tok-1", "type": "ios"}},
        },
    ),
    RuleCase(
        "semantic.objectId.required",
        "track",
        {"event": "Relationship Deleted", "userId": "u1"},
        {"event": "Relationship Deleted", "userId": "u1", "properties": {"objectId": "o1"}},
    ),
    RuleCase("batch.type", "batch", {"batch": {"type": "track"}}, {"batch": [{"type": "track", **E}]}),
    RuleCase("batch.empty", "batch", {"batch": []}, {"batch": [{"type": "track", **E}]}),
    RuleCase("batch.item.object", "batch", {"batch": ["track"]}, {"batch": [{"type": "track", **E}]}),
    RuleCase("batch.item.type", "batch", {"batch": [E]}, {"batch": [{"type": "track", **E}]}),
    RuleCase(
        "identify.properties",
        "identify",
        {"userId": "u1", "properties": {"plan": "pro"}},
        {"userId": "u1", "traits": {"plan": "pro"}},
    ),
    RuleCase(
        "identify.traits.context_only",
        "identify",
        {"userId": "u1", "context": {"traits": {"plan": "pro"}}},
        {"userId": "u1", "traits": {"plan": "pro"}, "context": {"traits": {"plan": "pro"}}},
    ),
    RuleCase("key.typo", "track", {**E, "user_id": "u1"}, E),
    RuleCase("screen.name.missing", "screen", {"userId": "u1"}, {"userId": "u1", "name": "Home"}),
    RuleCase("type.mismatch", "track", {**E, "type": "identify"}, {**E, "type": "track"}),
]
