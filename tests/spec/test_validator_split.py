"""Cutting a request body into calls: single calls, batches, and what the envelope gets wrong."""

from __future__ import annotations

import orjson

from mockpipe.spec.rules import violation
from mockpipe.spec.validator import Item, split_request, violations_of


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


def test_an_items_own_sent_at_is_kept() -> None:
    body = {"batch": [{"type": "track", "sentAt": "2024-05-05T00:00:00Z"}], "sentAt": "2024-01-01T00:00:00Z"}
    (item,), _ = split_request("batch", body)
    assert item.payload["sentAt"] == "2024-05-05T00:00:00Z"


def test_a_single_call_is_one_item_at_the_root() -> None:
    body = {"userId": "u1", "event": "E"}
    items, envelope = split_request("track", body, body_size=30)
    assert envelope == []
    assert [(item.type, item.payload, item.index, item.size, item.violations) for item in items] == [
        ("track", body, None, 30, [])
    ]
    assert items[0].pointer == ""


def test_a_single_call_of_another_declared_type_is_flagged_on_the_item() -> None:
    (item,), envelope = split_request("track", {"type": "identify", "userId": "u1"})
    assert envelope == []
    assert item.type == "track"  # the endpoint decides
    assert [(v.code, v.path) for v in item.violations] == [("type.mismatch", "/type")]


def test_envelope_violations() -> None:
    assert [v.code for v in split_request("batch", {"batch": {}})[1]] == ["batch.type"]
    assert [v.code for v in split_request("batch", {})[1]] == ["batch.type"]
    assert [v.code for v in split_request("batch", {"batch": []})[1]] == ["batch.empty"]
    items, envelope = split_request("batch", {"batch": [7, {"type": "page", "userId": "u1"}]})
    assert [(v.code, v.path) for v in envelope] == [("batch.item.object", "/batch/0")]
    assert [(item.type, item.index, item.pointer) for item in items] == [("page", 1, "/batch/1")]


def test_batch_items_of_an_unknown_type_are_kept_and_flagged() -> None:
    (item,), _ = split_request("batch", {"batch": [{"type": 3, "userId": "u1"}]})
    assert item.type == "unknown"
    assert [(v.code, v.path) for v in item.violations] == [("batch.item.type", "/type")]


def test_batch_items_are_measured_only_when_the_body_could_hold_an_oversized_one() -> None:
    body = {"batch": [{"type": "track", "userId": "u1", "event": "E"}]}
    (small,), _ = split_request("batch", orjson.loads(orjson.dumps(body)), body_size=60, max_call_bytes=100)
    assert (small.size, small.json) == (None, None)
    (big,), _ = split_request("batch", orjson.loads(orjson.dumps(body)), body_size=600, max_call_bytes=100)
    assert big.json == orjson.dumps(body["batch"][0])
    assert big.size == len(big.json)
    (unknown,), _ = split_request("batch", orjson.loads(orjson.dumps(body)))
    assert unknown.size == len(orjson.dumps(body["batch"][0]))


def test_item_pointer() -> None:
    assert Item("track", {}, 3).pointer == "/batch/3"
    assert Item("track", {}).pointer == ""


def test_an_items_violations_list_is_made_when_first_asked_for_and_kept() -> None:
    item = Item("track", {"userId": "u1", "event": "E"}, 0)
    assert item.violations == []
    item.violations.append(violation("batch.item.type", "/type", value="x"))
    assert [v.code for v in item.violations] == ["batch.item.type"]
    assert [v.code for v in violations_of(item)] == ["batch.item.type"]  # the envelope's finding, then no rule's
    assert violations_of(Item("track", {"userId": "u1", "event": "E"}, 1)) == []
