"""What the journal indexes of a call's payload, and the records' dictionaries."""

from __future__ import annotations

import pytest

from mockpipe.journal.packed import id_text, index_fields
from mockpipe.journal.records import CALL_FIELDS, Call, RequestRecord, builder, reader


def test_index_fields_take_ids_as_text_and_names_when_they_are_strings() -> None:
    assert index_fields({"messageId": "m", "userId": 42, "anonymousId": 1.5, "event": "E", "name": 7}) == (
        "m",
        "42",
        "1.5",
        "E",
        None,
    )
    assert index_fields({}) == ("", None, None, None, None)
    assert index_fields({"messageId": "", "userId": "", "name": "Home"}) == ("", None, None, None, "Home")
    assert index_fields({"messageId": 7, "userId": "u", "anonymousId": "", "event": None}) == (
        "7",
        "u",
        None,
        None,
        None,
    )
    assert index_fields({"messageId": None, "anonymousId": "a", "userId": None}) == ("", None, "a", None, None)


def test_an_id_of_a_wrong_type_is_still_findable_as_its_json() -> None:
    assert id_text({"id": 1}) == '{"id":1}'
    assert id_text([1, 2]) == "[1,2]"
    assert id_text(True) == "true"
    assert id_text(None) is None


def test_records_as_dictionaries() -> None:
    call = Call(1, 2, "k", "track", "t", "us", "/v1/track", True, True, (), "m", "u", None, "E", None, b'{"event":"E"}')
    assert call.to_dict(attempts=3) | {"payload": None} == {
        "id": 1,
        "requestId": 2,
        "writeKey": "k",
        "type": "track",
        "receivedAt": "t",
        "region": "us",
        "path": "/v1/track",
        "valid": True,
        "accepted": True,
        "violations": [],
        "messageId": "m",
        "duplicateOf": None,
        "attempts": 3,
        "payload": None,
    }
    assert call.payload == {"event": "E"}
    request = RequestRecord(
        2, "t", "POST", "/v1/track", "k", "basic", 400, False, "x", "bad", (), (1,), 9, None, None, None, b"\xff{"
    )
    assert request.to_dict()["body"] == "\ufffd{" and request.to_dict()["callIds"] == [1]


def test_builder_makes_a_record_from_values_in_a_named_order() -> None:
    build = builder(Call, "raw", "name", "event", "anonymous_id", "user_id", "message_id", "violations", "accepted",
                    "valid", "path", "region", "received_at", "type", "write_key", "request_id", "id")  # fmt: skip
    call = build((b"{}", None, "E", None, "u", "m", (), True, False, "/v1/track", "us", "t", "track", "k", 2, 1))
    assert type(call) is Call
    assert call == Call(id=1, request_id=2, write_key="k", type="track", received_at="t", region="us",
                        path="/v1/track", valid=False, accepted=True, violations=(), message_id="m", user_id="u",
                        anonymous_id=None, event="E", name=None, raw=b"{}")  # fmt: skip
    assert call.duplicate_of is None  # not named: its default


def test_builder_refuses_unknown_and_missing_fields_at_once() -> None:
    with pytest.raises(TypeError, match="unknown \\['colour'\\]"):
        builder(Call, *CALL_FIELDS, "colour")
    with pytest.raises(TypeError, match="missing \\['raw'\\]"):
        builder(Call, *(name for name in CALL_FIELDS if name != "raw"))
    with pytest.raises(TypeError):
        builder(Call, *CALL_FIELDS, "id")  # twice


def test_reader_reads_the_named_fields_in_their_order() -> None:
    call = Call(1, 2, "k", "track", "t", "us", "/v1/track", True, True, (), "m", "u", None, "E", None, b"{}")
    assert reader(Call, "event", "id", "duplicate_of")(call) == ("E", 1, None)
    assert reader(Call, "write_key")(call) == "k"
    with pytest.raises(TypeError, match="no field colour"):
        reader(Call, "colour")
