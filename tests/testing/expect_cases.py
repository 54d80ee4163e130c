"""The shared table of expectation cases: each runs through the Python assertion (`assert_call`) and
`POST /mockpipe/expect` (tests/emulator/test_expect_api.py), which must give the same verdict."""

from __future__ import annotations

from typing import Any, NamedTuple

STRICT = {"X-Strict-Mode": "1"}


class Case(NamedTuple):
    name: str
    sends: list[tuple[str, Any, dict[str, str]]]  # (endpoint, body, headers), sent with the case's key
    expect: dict[str, Any]  # the JSON expectation: type, fields, count, accepted
    passes: bool
    matched: int  # calls matching when it passes (or the count that made it fail)


ORDER = {"userId": "u1", "event": "Order Completed", "properties": {"revenue": 99.5, "currency": "USD"}}
SIGNUP = {"userId": "u1", "event": "Signed Up", "properties": {"plan": "pro"}}
BAD_BATCH = {"batch": [{"type": "identify", "userId": "u1"}, {"type": "track", "event": "No One"}]}

CASES = [
    Case("subset-match", [("track", ORDER, {})], {"type": "track", "fields": {"event": "Order Completed"}}, True, 1),
    Case(
        "nested-subset",
        [("track", ORDER, {})],
        {"type": "track", "fields": {"event": "Order Completed", "properties": {"revenue": 99.5}}, "count": 1},
        True,
        1,
    ),
    Case(
        "differing-value",
        [("track", ORDER, {})],
        {"type": "track", "fields": {"properties": {"revenue": 10}}},
        False,
        0,
    ),
    Case("wrong-type", [("track", ORDER, {})], {"type": "identify", "fields": {"userId": "u1"}}, False, 0),
    Case("nothing-sent", [], {"type": "track"}, False, 0),
    Case("at-least-one", [("track", ORDER, {}), ("track", ORDER, {})], {"type": "track"}, True, 2),
    Case(
        "exact-count-too-many", [("track", ORDER, {}), ("track", SIGNUP, {})], {"type": "track", "count": 1}, False, 2
    ),
    Case("exact-count-too-few", [("track", ORDER, {})], {"type": "track", "count": 2}, False, 1),
    Case("exact-count", [("track", ORDER, {}), ("track", SIGNUP, {})], {"type": "track", "count": 2}, True, 2),
    Case("count-zero-holds", [("track", ORDER, {})], {"type": "page", "count": 0}, True, 0),
    Case("count-zero-broken", [("track", ORDER, {})], {"type": "track", "count": 0}, False, 1),
    Case("null-means-absent", [("track", ORDER, {})], {"type": "track", "fields": {"anonymousId": None}}, True, 1),
    Case(
        "list-length",
        [("track", {**ORDER, "properties": {"items": [1, 2]}}, {})],
        {"type": "track", "fields": {"properties": {"items": [1]}}},
        False,
        0,
    ),
    Case("refused-not-counted", [("batch", BAD_BATCH, STRICT)], {"type": "identify"}, False, 0),
    Case("refused-asked-for", [("batch", BAD_BATCH, STRICT)], {"type": "identify", "accepted": False}, True, 1),
    Case(
        "either-verdict",
        [("batch", BAD_BATCH, STRICT), ("identify", {"userId": "u1"}, {})],
        {"type": "identify", "accepted": None},
        True,
        2,
    ),
    Case(
        "accepted-not-refused", [("identify", {"userId": "u1"}, {})], {"type": "identify", "accepted": False}, False, 0
    ),
    Case(
        "permissive-keeps-invalid",
        [("batch", BAD_BATCH, {})],
        {"type": "identify", "fields": {"userId": "u1"}},
        True,
        1,
    ),
]
