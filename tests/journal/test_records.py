"""What the journal indexes of a call's payload, and the records' dictionaries."""

from __future__ import annotations

from mockpipe.journal.records import Call, RequestRecord, id_text, index_fields


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
