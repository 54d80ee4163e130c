"""What the server adds to each call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mockpipe.spec.enrich import enrich
from mockpipe.spec.times import format_time

RECEIVED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
RECEIVED_TEXT = format_time(RECEIVED)


def enriched(payload: dict[str, object], call_type: str = "track") -> dict[str, object]:
    enrich(call_type, payload, RECEIVED, RECEIVED_TEXT)
    return payload


def test_received_at_type_and_message_id() -> None:
    call = enriched({"userId": "u1", "type": "identify"})
    assert call["receivedAt"] == "2026-01-01T12:00:00.000Z"
    assert call["type"] == "track"  # the endpoint wins
    uuid.UUID(str(call["messageId"]))
    assert enriched({"messageId": "m-1"})["messageId"] == "m-1"


def test_a_generated_message_id_is_derived_from_the_call_its_arrival_and_position() -> None:
    # A request processed again (the backlog, a store rebuilding calls) gets the same messageIds.
    def message_id(payload: dict[str, object], received: datetime = RECEIVED, position: int | None = None) -> str:
        enrich("track", payload, received, format_time(received), position)
        return str(payload["messageId"])

    first = message_id({"userId": "u1", "event": "E"})
    assert uuid.UUID(first).version == 4
    assert message_id({"userId": "u1", "event": "E"}) == first
    assert message_id({"event": "E", "userId": "u1"}) == first  # the order of keys aside
    assert message_id({"userId": "u2", "event": "E"}) != first
    assert message_id({"userId": "u1", "event": "E"}, position=0) != first
    assert message_id({"userId": "u1", "event": "E"}, position=0) != message_id(
        {"userId": "u1", "event": "E"}, position=1
    )
    later = RECEIVED.replace(microsecond=1)
    assert message_id({"userId": "u1", "event": "E"}, later) != first


def test_explicit_timestamp_is_kept() -> None:
    assert enriched({"timestamp": "2020-05-05T00:00:00Z"})["timestamp"] == "2020-05-05T00:00:00Z"


def test_timestamp_corrects_the_device_clock() -> None:
    # The device clock runs 10 minutes fast: the call happened 2 s before it was sent.
    call = enriched({"originalTimestamp": "2026-01-01T12:09:58Z", "sentAt": "2026-01-01T12:10:00Z"})
    assert call["timestamp"] == "2026-01-01T11:59:58.000Z"


def test_timestamp_falls_back_to_original_then_received() -> None:
    assert enriched({"originalTimestamp": "2025-12-31T00:00:00+02:00"})["timestamp"] == "2025-12-30T22:00:00.000Z"
    assert enriched({})["timestamp"] == RECEIVED_TEXT
    assert enriched({"originalTimestamp": "garbage", "sentAt": "2026-01-01T12:00:00Z"})["timestamp"] == RECEIVED_TEXT


def test_unknown_batch_item_type_is_left_alone() -> None:
    assert enriched({"type": "bogus"}, call_type="bogus")["type"] == "bogus"
