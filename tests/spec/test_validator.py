"""The validator: `validate` (exceptions, nulls, batches, pointers, real SDK output) and `violations_of`."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from typing import Any

import pytest

from mockpipe import validate
from mockpipe.spec.checks import every_rule
from mockpipe.spec.decoding import ENDPOINT_TYPES
from mockpipe.spec.validator import Item, split_request, violations_of
from tests.support.sdk_captures import captured_requests


def codes(payload: Mapping[str, Any], **options: Any) -> list[str]:
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


def test_batch_level_context_is_checked_on_each_item() -> None:
    body = {"batch": [{"type": "track", "userId": "u1", "event": "E"}], "context": {"active": "yes"}}
    assert [(v.code, v.path) for v in validate(body)] == [("context.active.type", "/batch/0/context/active")]


def test_numbers_as_ids_are_warnings_not_errors() -> None:
    found = validate({"userId": 7, "event": "E"}, call_type="track")
    assert [(v.code, v.severity) for v in found] == [("id.number", "warning")]


def test_epoch_timestamp_warning_suggests_iso() -> None:
    (found,) = validate({"userId": "u1", "event": "E", "timestamp": 1704164645000}, call_type="track")
    assert "2024-01-02T03:04:05.000Z" in found.message


def test_paths_escape_slash_and_tilde() -> None:
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


def test_a_key_of_the_region_it_is_sent_to_is_clean() -> None:
    assert codes({"userId": "u1", "event": "E"}, call_type="track", region="eu", write_key="pk_eu_1") == []
    assert codes({"userId": "u1", "event": "E"}, call_type="track", region="us", write_key="pk_eu_1") == [
        "writeKey.region"
    ]


def test_the_call_type_comes_from_the_payload_or_is_refused() -> None:
    assert codes({"type": "track", "userId": "u1"}) == ["track.event.required"]
    assert codes({"batch": []}) == ["batch.empty"]
    with pytest.raises(ValueError, match="cannot tell which call this is"):
        validate({"userId": "u1"})
    with pytest.raises(ValueError, match="'click'"):
        validate({"userId": "u1"}, call_type="click")


def test_validate_leaves_the_payload_as_given() -> None:
    body = {"batch": [{"type": "track", "userId": "u1", "event": "E"}], "context": {"ip": "1.1.1.1"}}
    validate(body)
    assert body == {"batch": [{"type": "track", "userId": "u1", "event": "E"}], "context": {"ip": "1.1.1.1"}}


def test_the_old_module_path_still_gives_validate() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = importlib.import_module("mockpipe.validation")
    assert old.validate is validate


def test_real_sdk_output_has_no_errors() -> None:
    captured = captured_requests()
    assert len({sdk for sdk, _, _ in captured}) == 8
    for sdk, path, body in captured:
        errors = [
            v
            for v in validate(body, call_type=ENDPOINT_TYPES[path.rsplit("/", 1)[-1]], region="us")
            if v.severity == "error"
        ]
        assert errors == [], f"{sdk} {path}: {errors}"


# -- violations_of: the one entry point for a call cut out of a request -----------------------------


def test_violations_of_a_clean_call_is_empty() -> None:
    assert violations_of(Item("track", {"userId": "u1", "event": "E"}), region="us", write_key="wk") == []


def test_violations_of_puts_the_envelope_findings_first() -> None:
    (item,), _ = split_request("track", {"type": "identify", "userId": "u1"})
    assert [v.code for v in violations_of(item)] == ["type.mismatch", "track.event.required"]


def test_violations_of_asks_every_rule_when_the_envelope_found_something() -> None:
    """A call the envelope flagged is not proved clean by the fast lane, even when its fields are."""
    (item,), _ = split_request("track", {"type": "identify", "userId": "u1", "event": "E"})
    assert [v.code for v in violations_of(item)] == ["type.mismatch"]


def test_violations_of_passes_its_options_to_the_rules() -> None:
    item = Item("track", {"userId": "u1", "event": "E"}, size=101)
    assert [v.code for v in violations_of(item, max_call_bytes=100)] == ["call.too_large"]
    assert violations_of(item, max_call_bytes=101) == []
    assert [v.code for v in violations_of(item, region="us", write_key="pk_eu_1")] == ["writeKey.region"]


def test_violations_of_finds_what_every_rule_finds() -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("track", {"userId": "u1", "event": "E", "context": {"active": 1}}),
        ("identify", {"anonymousId": "a1", "properties": {"x": 1}}),
        ("group", {"userId": "u1"}),
        ("alias", {"userId": "u1", "previousId": "a1"}),
        ("screen", {"userId": "u1"}),
        ("page", {"userId": "u1", "timestamp": "yesterday"}),
    ]
    for call_type, call in calls:
        expected = every_rule(call_type, call, size=None, max_call_bytes=1000, region=None, write_key=None)
        assert violations_of(Item(call_type, call), max_call_bytes=1000) == expected, call
