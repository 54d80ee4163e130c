"""`References`: volatile values become numbered references, equal values share one."""

from __future__ import annotations

from typing import Any, ClassVar

from mockpipe.journal.journal import Call, RequestRecord
from mockpipe.spec.rules import Violation
from mockpipe.testing.snapshot import MockpipeSnapshotExtension, References

TIME = "2024-01-02T03:04:05.000Z"


def call(**payload: Any) -> dict[str, Any]:
    return {"type": "track", "event": "E", "timestamp": TIME, "receivedAt": TIME, **payload}


def test_ids_are_numbered_in_reading_order_and_linked_by_value() -> None:
    data = [
        call(messageId="m-a", anonymousId="anon", properties={"echo": "m-b"}),
        call(messageId="m-b", userId="anon"),
        {"type": "alias", "previousId": "anon", "userId": "u1", "messageId": "m-a"},
    ]
    assert References().apply(data) == [
        call(
            messageId="<messageId:1>",
            anonymousId="<anonymousId:1>",
            properties={"echo": "<messageId:2>"},
            timestamp="<timestamp>",
            receivedAt="<receivedAt>",
        ),
        call(messageId="<messageId:2>", userId="<anonymousId:1>", timestamp="<timestamp>", receivedAt="<receivedAt>"),
        {"type": "alias", "previousId": "<anonymousId:1>", "userId": "u1", "messageId": "<messageId:1>"},
    ]


def test_times_are_not_linked_unless_asked_and_bad_ones_are_kept() -> None:
    data = {"timestamp": TIME, "sentAt": TIME, "originalTimestamp": "yesterday", "receivedAt": 12}
    assert References().apply(data) == {
        "timestamp": "<timestamp>",
        "sentAt": "<sentAt>",
        "originalTimestamp": "yesterday",
        "receivedAt": 12,
    }

    class Linked(References):
        link_times: ClassVar[bool] = True

    assert Linked().apply({**data, "receivedAt": "2024-01-02T03:04:06Z"}) == {
        "timestamp": "<timestamp:2>",
        "sentAt": "<timestamp:2>",
        "originalTimestamp": "yesterday",
        "receivedAt": "<timestamp:1>",
    }  # numbered in key order: receivedAt comes first


def test_library_and_metadata_versions_and_write_keys() -> None:
    data = {
        "context": {"library": {"name": "sdk", "version": "1.1.0"}, "app": {"version": "1.1.0"}},
        "_metadata": {"nodeVersion": "20.1.0", "bundled": ["Segment.io"]},
        "properties": {"version": "1.1.0", "url": "http://x/?key=mockpipe_0123456789abcdef"},
        "writeKey": "mockpipe_0123456789abcdef",
    }
    assert References().apply(data) == {
        "context": {"library": {"name": "sdk", "version": "<version:1>"}, "app": {"version": "1.1.0"}},
        "_metadata": {"nodeVersion": "<nodeVersion:1>", "bundled": ["Segment.io"]},
        "properties": {"version": "1.1.0", "url": "http://x/?key=<writeKey:1>"},
        "writeKey": "<writeKey:1>",
    }


def test_journal_records_become_dicts_with_referenced_ids() -> None:
    raw = b'{"type":"track","event":"E","userId":"u1","messageId":"m1"}'
    first = Call(
        7,
        3,
        "mockpipe_0123456789abcdef",
        "track",
        TIME,
        "us",
        "/v1/track",
        True,
        True,
        (Violation("id.number", "warning", "/userId", "say it"),),
        "m1",
        "u1",
        None,
        "E",
        None,
        raw,
    )
    resend = first._replace(id=9, request_id=4, duplicate_of=7)
    request = RequestRecord(
        3,
        TIME,
        "POST",
        "/v1/track",
        first.write_key,
        "basic",
        200,
        True,
        None,
        None,
        (),
        (7,),
        60,
        None,
        "sdk/1.0",
        None,
    )
    first_dict, resend_dict, request_dict = References().apply([first, resend, request])
    assert (first_dict["id"], first_dict["requestId"], first_dict["duplicateOf"]) == (
        "<callId:1>",
        "<requestId:1>",
        None,
    )
    assert (resend_dict["id"], resend_dict["requestId"], resend_dict["duplicateOf"]) == (
        "<callId:2>",
        "<requestId:2>",
        "<callId:1>",
    )
    assert first_dict["payload"]["messageId"] == first_dict["messageId"] == "<messageId:1>"
    assert first_dict["violations"] == [
        {"code": "id.number", "severity": "warning", "path": "/userId", "message": "say it"}
    ]
    assert (request_dict["id"], request_dict["callIds"], request_dict["writeKey"]) == (
        "<requestId:1>",
        ["<callId:1>"],
        "<writeKey:1>",
    )


def test_each_snapshot_numbers_afresh_and_serialises_sorted_json() -> None:
    extension = MockpipeSnapshotExtension()
    first = extension.serialize([{"messageId": "x", "b": 1, "a": [2]}])
    assert first == '[\n  {\n    "a": [\n      2\n    ],\n    "b": 1,\n    "messageId": "<messageId:1>"\n  }\n]\n'
    assert extension.serialize([{"messageId": "y", "b": 1, "a": [2]}]) == first


def test_app_ids_by_key_name_or_dotted_path_are_numbered_and_linked() -> None:
    data = [
        {"userId": "u-9", "properties": {"order_id": "o-7", "total": 3, "note": "o-7"}},
        {"userId": "u-9", "payload": {"properties": {"order_id": 41}}, "traits": {"order_id": "kept"}},
    ]
    assert References(ids=["userId", "properties.order_id"]).apply(data) == [
        {"userId": "<userId:1>", "properties": {"order_id": "<order_id:1>", "total": 3, "note": "<order_id:1>"}},
        {
            "userId": "<userId:1>",
            "payload": {"properties": {"order_id": "<order_id:2>"}},
            "traits": {"order_id": "kept"},
        },
    ]
