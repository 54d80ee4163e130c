"""Validation details beyond one rule at a time: exceptions, nulls, batches, pointers, real SDK output."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest

from mockpipe import validate
from mockpipe.ingest import ENDPOINT_TYPES
from mockpipe.validation import key_region, parse_timestamp, pointer, split_request

# Requests captured from the published SDKs (copied from the shared reference material).
CLIENTS = Path(__file__).resolve().parent / "data" / "sdk_captures"


def codes(payload: dict[str, object], **options: object) -> list[str]:
    return [v.code for v in validate(payload, **options)]  # type: ignore[arg-type]


def test_identify_may_use_email_instead_of_ids() -> None:
    assert codes({"traits": {"email": "a@b.co"}}, call_type="identify") == []
    assert codes({"userId": "", "anonymousId": None, "traits": {"email": "a@b.co"}}, call_type="identify") == []
    assert "identity.required" in codes({"traits": {"email": ""}}, call_type="identify")


def test_track_may_use_group_id_and_group_needs_no_person() -> None:
    assert codes({"event": "Plan Changed", "groupId": "acme"}, call_type="track") == []
    assert codes({"groupId": "acme", "traits": {"name": "Acme"}}, call_type="group") == []


def test_explicit_nulls_are_accepted() -> None:
    payload = {"userId": "u1", "anonymousId": None, "event": "E", "properties": None, "context": {
        "ip": None, "active": None, "page": None, "device": {"type": None}}, "timestamp": None, "integrations": None}
    assert codes(payload, call_type="track") == []


def test_every_violation_is_reported_not_just_the_first() -> None:
    found = codes({"context": {"active": 1, "channel": "tv"}, "timestamp": "nope"}, call_type="track")
    assert sorted(found) == sorted(["identity.required", "track.event.required", "context.active.type",
                                    "channel.enum", "timestamp.format"])


def test_batch_paths_point_into_the_request() -> None:
    found = validate({"batch": [{"type": "track", "userId": "u1", "event": "E"}, {"type": "track", "userId": "u1"}]})
    assert [(v.code, v.path) for v in found] == [("track.event.required", "/batch/1/event")]


def test_batch_context_and_integrations_merge_into_items_item_wins() -> None:
    body = {"batch": [{"type": "track", "userId": "u1", "event": "E", "context": {"ip": "1.1.1.1"},
                       "integrations": {"A": False}}],
            "context": {"ip": "2.2.2.2", "locale": "en-US"}, "integrations": {"A": True, "B": True},
            "sentAt": "2024-01-01T00:00:00Z"}
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
        ("identity.required", "/userId"), ("key.typo", "/anonymousID"), ("key.typo", "/userid")]
    assert "'userId'" in next(v.message for v in found if v.path == "/userid")


def test_region_of_write_keys() -> None:
    assert key_region("pk_eu_123") == "eu"
    assert key_region("sk_us_x") == "us"
    assert key_region("wk_test_123") is None
    assert codes({"userId": "u1", "event": "E"}, call_type="track", region="eu", write_key="pk_eu_1") == []


@pytest.mark.parametrize("text", ["2026-11-26T21:28:47.461+00:00", "2026-11-26T21:28:47.451Z",
                                  "2026-11-26T21:28:47.324240+00:00", "2024-01-02T03:04:05", "2024-01-02"])
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
        errors = [v for v in validate(body, call_type=ENDPOINT_TYPES[path.rsplit("/", 1)[-1]], region="us")
                  if v.severity == "error"]
        assert errors == [], f"{sdk} {path}: {errors}"
