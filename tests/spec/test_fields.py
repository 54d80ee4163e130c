"""The tables the checks and the fast lane share: known keys and near-misses, pointers, write-key regions."""

from __future__ import annotations

from mockpipe.spec.fields import (
    CONTEXT_SECTIONS,
    KNOWN_KEYS,
    SEMANTIC_DEVICE,
    SEMANTIC_EVENTS,
    SEMANTIC_NEEDS_USER,
    SEMANTIC_OBJECT,
    TOP_TIMES,
    key_region,
    near_miss,
)


def test_region_of_write_keys() -> None:
    assert key_region("pk_eu_123") == "eu"
    assert key_region("sk_us_x") == "us"
    assert key_region("wk_test_123") is None
    assert key_region("eu_key") == "eu"
    assert key_region("pkeu_1") is None


def test_near_misses_of_known_keys() -> None:
    assert near_miss("userid") == "userId"
    assert near_miss("user_id") == "userId"
    assert near_miss("Message-ID") == "messageId"
    assert near_miss("userId") == "userId"  # callers ask only about keys that are not known
    assert near_miss("custom") is None
    assert all(near_miss(key) == key for key in KNOWN_KEYS)


def test_field_pointers_are_computed_once_and_right() -> None:
    times = {"timestamp": "/timestamp", "originalTimestamp": "/originalTimestamp", "sentAt": "/sentAt"}
    assert dict(TOP_TIMES) == times
    section, path, strings = next(entry for entry in CONTEXT_SECTIONS if entry[0] == "device")
    assert (section, path) == ("device", "/context/device")
    assert ("token", "/context/device/token") in strings


def test_semantic_event_sets() -> None:
    assert SEMANTIC_DEVICE <= SEMANTIC_NEEDS_USER
    assert SEMANTIC_EVENTS == SEMANTIC_NEEDS_USER | SEMANTIC_OBJECT
    assert "Object Deleted" in SEMANTIC_EVENTS and "Object Deleted" not in SEMANTIC_NEEDS_USER
