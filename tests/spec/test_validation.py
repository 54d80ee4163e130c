"""Validation details beyond one rule at a time: exceptions, nulls, batches, pointers, real SDK output."""

from __future__ import annotations

import copy
import glob
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockpipe import validate
from mockpipe.emulator.ingest import ENDPOINT_TYPES
from mockpipe.factories.payloads import PayloadFactory
from mockpipe.spec.validation import (
    _CONTEXT_OBJECT_STRINGS,
    _CONTEXT_STRINGS,
    _NETWORK_BOOLS,
    KNOWN_KEYS,
    MAX_CALL_BYTES,
    every_violation,
    key_region,
    parse_timestamp,
    pointer,
    proves_clean,
    split_request,
)
from tests.support.paths import SDK_CAPTURES
from tests.support.rule_cases import CASES

# Requests captured from the published SDKs (copied from the shared reference material).
CLIENTS = SDK_CAPTURES


def codes(payload: Mapping[str, object], **options: Any) -> list[str]:
    return [v.code for v in validate(payload, **options)]


def test_identify_may_use_email_instead_of_ids() -> None:
    assert codes({"traits": {"email": "a@b.co"}}, call_type="identify") == []
    assert codes({"userId": "", "anonymousId": None, "traits": {"email": "a@b.co"}}, call_type="identify") == []
    assert "identity.required" in codes({"traits": {"email": ""}}, call_type="identify")


def test_track_may_use_group_id_and_group_needs_no_person() -> None:
    assert codes({"event": "Plan Changed", "groupId": "acme"}, call_type="track") == []
    assert codes({"groupId": "acme", "traits": {"name": "Acme"}}, call_type="group") == []


def test_explicit_nulls_are_accepted() -> None:
    payload = {
        "userId": "u1",
        "anonymousId": None,
        "event": "E",
        "properties": None,
        "context": {"ip": None, "active": None, "page": None, "device": {"type": None}},
        "timestamp": None,
        "integrations": None,
    }
    assert codes(payload, call_type="track") == []


def test_every_violation_is_reported_not_just_the_first() -> None:
    found = codes({"context": {"active": 1, "channel": "tv"}, "timestamp": "nope"}, call_type="track")
    assert sorted(found) == sorted(
        ["identity.required", "track.event.required", "context.active.type", "channel.enum", "timestamp.format"]
    )


def test_a_batch_item_type_of_any_json_kind_is_flagged_not_raised() -> None:
    for declared in (["track"], {"t": 1}, 7, None, True, "Track"):
        found = validate({"batch": [{"type": declared, "userId": "u1", "event": "E"}]})
        assert "batch.item.type" in [v.code for v in found], declared


def test_batch_paths_point_into_the_request() -> None:
    found = validate({"batch": [{"type": "track", "userId": "u1", "event": "E"}, {"type": "track", "userId": "u1"}]})
    assert [(v.code, v.path) for v in found] == [("track.event.required", "/batch/1/event")]


def test_batch_context_and_integrations_merge_into_items_item_wins() -> None:
    body = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "E", "context": {"ip": "1.1.1.1"}, "integrations": {"A": False}}
        ],
        "context": {"ip": "2.2.2.2", "locale": "en-US"},
        "integrations": {"A": True, "B": True},
        "sentAt": "2024-01-01T00:00:00Z",
    }
    items, envelope = split_request("batch", body)
    assert envelope == []
    item = items[0].payload
    assert item["context"] == {"ip": "1.1.1.1", "locale": "en-US"}
    assert item["integrations"] == {"A": False, "B": True}
    assert item["sentAt"] == "2024-01-01T00:00:00Z"


def test_batch_level_context_is_checked_on_each_item() -> None:
    body = {"batch": [{"type": "track", "userId": "u1", "event": "E"}], "context": {"active": "yes"}}
    assert [(v.code, v.path) for v in validate(body)] == [("context.active.type", "/batch/0/context/active")]


def test_numbers_as_ids_are_warnings_not_errors() -> None:
    found = validate({"userId": 7, "event": "E"}, call_type="track")
    assert [(v.code, v.severity) for v in found] == [("id.number", "warning")]


def test_epoch_timestamp_warning_suggests_iso() -> None:
    (found,) = validate({"userId": "u1", "event": "E", "timestamp": 1704164645000}, call_type="track")
    assert "2024-01-02T03:04:05.000Z" in found.message


def test_pointer_escapes_slash_and_tilde() -> None:
    assert pointer("integrations", "a/b~c") == "/integrations/a~1b~0c"
    (found,) = validate({"userId": "u1", "event": "E", "integrations": {"a/b": 1}}, call_type="track")
    assert found.path == "/integrations/a~1b"


def test_semantic_events_accept_integer_object_type_ids() -> None:
    payload = {"event": "Relationship Deleted", "userId": "u1", "properties": {"objectId": "o1", "objectTypeId": 2}}
    assert codes(payload, call_type="track") == []
    bad = {**payload, "properties": {"objectId": "o1", "objectTypeId": "two"}}
    assert codes(bad, call_type="track") == ["objectTypeId.format"]


def test_typo_keys_are_flagged_with_the_known_key() -> None:
    found = validate({"userid": "u1", "anonymousID": "a", "event": "E"}, call_type="track")
    assert sorted((v.code, v.path) for v in found) == [
        ("identity.required", "/userId"),
        ("key.typo", "/anonymousID"),
        ("key.typo", "/userid"),
    ]
    assert "'userId'" in next(v.message for v in found if v.path == "/userid")


def test_region_of_write_keys() -> None:
    assert key_region("pk_eu_123") == "eu"
    assert key_region("sk_us_x") == "us"
    assert key_region("wk_test_123") is None
    assert codes({"userId": "u1", "event": "E"}, call_type="track", region="eu", write_key="pk_eu_1") == []


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26T21:28:47.461+00:00",
        "2026-11-26T21:28:47.451Z",
        "2026-11-26T21:28:47.324240+00:00",
        "2024-01-02T03:04:05",
        "2024-01-02",
    ],
)
def test_iso_timestamps_the_sdks_send_parse(text: str) -> None:
    assert parse_timestamp(text) is not None


def _captured_requests() -> list[tuple[str, str, dict[str, object]]]:
    found = []
    for path in sorted(glob.glob(str(CLIENTS / "*.jsonl"))):
        for line in Path(path).read_text().splitlines():
            record = json.loads(line)
            if record["method"] == "POST" and isinstance(record.get("json"), dict):
                found.append((Path(path).stem, record["path"], record["json"]))
    return found


def test_real_sdk_output_has_no_errors() -> None:
    captured = _captured_requests()
    assert len({sdk for sdk, _, _ in captured}) == 8
    for sdk, path, body in captured:
        errors = [
            v
            for v in validate(body, call_type=ENDPOINT_TYPES[path.rsplit("/", 1)[-1]], region="us")
            if v.severity == "error"
        ]
        assert errors == [], f"{sdk} {path}: {errors}"


# -- the fast lane ---------------------------------------------------------------------------------


def _lane_and_rules(
    call_type: str,
    body: dict[str, Any],
    *,
    region: str | None = None,
    write_key: str | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
) -> list[tuple[bool, list[str]]]:
    """For each call of a request: (the fast lane proves it clean, the codes every rule finds)."""
    encoded = orjson.dumps(body)
    items, _ = split_request(
        call_type,
        orjson.loads(encoded),
        body_size=None if call_type == "batch" else len(encoded),
        max_call_bytes=max_call_bytes,
    )
    found = []
    for item in items:
        options: dict[str, Any] = {
            "size": item.size,
            "max_call_bytes": max_call_bytes,
            "region": region,
            "write_key": write_key,
        }
        found.append(
            (
                proves_clean(item.type, item.payload, **options),
                [v.code for v in every_violation(item.type, item.payload, **options)],
            )
        )
    return found


def _assert_lane_is_sound(call_type: str, body: dict[str, Any], **options: Any) -> None:
    for clean, codes in _lane_and_rules(call_type, body, **options):
        assert not (clean and codes), f"the fast lane passed a call flagged {codes}: {body}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_the_fast_lane_passes_no_call_of_the_rule_catalogue_cases(case: Any) -> None:
    for body, key in ((case.bad, case.write_key), (case.good, case.good_write_key)):
        for region in (None, "us", "eu"):
            _assert_lane_is_sound(case.endpoint, body, region=region, write_key=key, **case.extra)


def test_the_fast_lane_passes_no_broken_factory_case() -> None:
    factory = PayloadFactory()
    for seed in range(3):
        for channel in ("browser", "server", "mobile"):
            for case in factory.seed(seed).invalid_cases(channel=channel) + factory.mistakes(channel=channel):
                _assert_lane_is_sound(case.call_type, case.payload, region=case.region, write_key=case.write_key)


def test_the_fast_lane_proves_ordinary_calls_clean() -> None:
    """What SDKs send most goes through the lane (else it would speed nothing up)."""
    factory = PayloadFactory()
    for seed in range(20):
        for channel in ("browser", "server", "mobile"):
            for call in (
                factory.seed(seed).track(channel=channel, semantic=False),
                factory.identify(channel=channel),
                factory.page(channel=channel),
                factory.screen(channel=channel),
            ):
                assert _lane_and_rules(call["type"], call, region="us", write_key="wk") == [(True, [])], call
    for sdk, path, body in _captured_requests():
        call_type = ENDPOINT_TYPES[path.rsplit("/", 1)[-1]]
        _assert_lane_is_sound(call_type, body, region="us")
        if call_type in ("track", "page", "screen"):
            assert _lane_and_rules(call_type, body, region="us") == [(True, [])], f"{sdk} {path}"


def test_the_fast_lane_passes_no_wrong_value_at_any_field_the_rules_know() -> None:
    """Every field the rules look at, set to each odd value in turn, in a call that is clean otherwise."""
    sections = {
        section: [*names, "type", "keywords", *_NETWORK_BOOLS, "extra"]
        for section, names in _CONTEXT_OBJECT_STRINGS.items()
    }
    paths: list[tuple[str, ...]] = [(key,) for key in [*KNOWN_KEYS, "user_id", "Event", "custom"]]
    paths += [("context", key) for key in [*_CONTEXT_STRINGS, *sections, "active", "channel", "traits", "campaign"]]
    paths += [("context", section, name) for section, names in sections.items() for name in names]
    paths += [
        ("context", "campaign", "source"),
        ("integrations", "All"),
        ("traits", "email"),
        ("traits", "createdAt"),
        ("properties", "objectId"),
        ("context", "traits", "email"),
    ]
    checked = 0
    for call_type, base in (
        ("track", {"userId": "u1", "event": "E"}),
        ("identify", {"anonymousId": "a1"}),
        ("page", {"userId": "u1", "name": "Home"}),
        ("screen", {"userId": "u1", "name": "Home"}),
    ):
        for path in paths:
            for value in _ODD_VALUES:
                call: dict[str, Any] = copy.deepcopy(base)
                target = call
                for key in path[:-1]:
                    target = target.setdefault(key, {})
                target[path[-1]] = copy.deepcopy(value)
                _assert_lane_is_sound(call_type, call, region="us", write_key="wk")
                checked += 1
    assert checked > 9_000


_ODD_VALUES = [
    None,
    "",
    "x",
    "browser",
    "android",
    "2024-01-02T03:04:05.678Z",
    "yesterday",
    0,
    42,
    1.5,
    True,
    False,
    [],
    ["a"],
    [1],
    {},
    {"a": 1},
    {"email": 7},
    {"type": "tv"},
    "Device Deleted",
    "Object Deleted",
    "12",
    1700000000000,
]
_ODD_KEYS = [
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "event",
    "name",
    "category",
    "messageId",
    "writeKey",
    "properties",
    "traits",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "channel",
    "integrations",
    "context",
    "type",
    "objectTypeId",
    "user_id",
    "Event",
    "message-id",
    "custom",
]
_ODD_CONTEXT_KEYS = [
    "active",
    "channel",
    "ip",
    "locale",
    "userAgent",
    "timezone",
    "traits",
    "page",
    "app",
    "device",
    "os",
    "library",
    "network",
    "campaign",
    "other",
]
_ODD_SECTION_KEYS = [
    "name",
    "version",
    "type",
    "token",
    "keywords",
    "wifi",
    "bluetooth",
    "path",
    "id",
    "email",
    "createdAt",
    "objectId",
    "extra",
]


def test_the_fast_lane_never_passes_what_a_rule_flags_in_mutated_calls() -> None:
    from hypothesis import HealthCheck, given, settings, strategies as st

    from mockpipe.factories import strategies

    where = st.one_of(
        st.tuples(st.sampled_from(_ODD_KEYS)),
        st.tuples(st.just("context"), st.sampled_from(_ODD_CONTEXT_KEYS)),
        st.tuples(
            st.sampled_from(["context", "traits", "properties", "integrations"]),
            st.sampled_from(_ODD_CONTEXT_KEYS + _ODD_SECTION_KEYS),
        ),
        st.tuples(st.just("context"), st.sampled_from(_ODD_CONTEXT_KEYS), st.sampled_from(_ODD_SECTION_KEYS)),
    )
    mutation = st.tuples(where, st.sampled_from(_ODD_VALUES))

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        strategies.payloads(),
        st.lists(mutation, min_size=1, max_size=3),
        st.sampled_from([None, "us", "eu"]),
        st.sampled_from([None, "wk", "pk_eu_1"]),
        st.booleans(),
    )
    def check(
        payload: dict[str, Any],
        mutations: list[tuple[tuple[str, ...], Any]],
        region: str | None,
        write_key: str | None,
        batched: bool,
    ) -> None:
        call_type = payload["type"]  # the endpoint it is sent to, whatever the mutations do to its type
        for path, value in mutations:
            target = payload
            for key in path[:-1]:
                if not isinstance(target.get(key), dict):
                    target[key] = {}
                target = target[key]
            target[path[-1]] = copy.deepcopy(value)  # sampled values are shared between examples
        if batched:
            _assert_lane_is_sound("batch", {"batch": [payload]}, region=region, write_key=write_key)
        else:
            _assert_lane_is_sound(call_type, payload, region=region, write_key=write_key, max_call_bytes=600)

    check()
