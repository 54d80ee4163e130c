"""Subset matching, expectations and their descriptions, near misses, violations as pointers."""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from mockpipe.journal.journal import Call, CallQuery, RequestRecord
from mockpipe.spec.rules import Violation
from mockpipe.testing.assertions import MISSING, Difference, Expectation, differences, near_misses, violations_of
from mockpipe.types import JSONObject


@pytest.mark.parametrize(
    ("expected", "actual", "found"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, []),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, []),
        ({"a": {"b": 1}}, {"a": {"b": 2}}, [Difference("a.b", 1, 2)]),
        ({"a": 1}, {}, [Difference("a", 1, MISSING)]),
        ({"a": None}, {}, []),
        ({"a": None}, {"a": None}, []),
        ({"a": None}, {"a": 0}, [Difference("a", None, 0)]),
        ({"a": ANY}, {"a": [1]}, []),
        ({"a": [{"x": 1}]}, {"a": [{"x": 1, "y": 2}]}, []),
        ({"a": [1, 2]}, {"a": [1]}, [Difference("a", [1, 2], [1])]),
        ({"a": [{"x": 1}]}, {"a": [{"x": 2}]}, [Difference("a[0].x", 1, 2)]),
        ({"a": {"b": 1}}, {"a": "text"}, [Difference("a", {"b": 1}, "text")]),
    ],
    ids=repr,
)
def test_differences_matches_dicts_as_subsets(expected: object, actual: object, found: list[Difference]) -> None:
    assert differences(expected, actual) == found


def test_a_difference_reads_as_expected_and_got() -> None:
    assert str(Difference("properties.plan", "pro", MISSING)) == "properties.plan: expected 'pro', got <missing>"
    assert str(Difference("x", "a" * 100, 1)).startswith("x: expected 'aaaaaaaaaaaaaaaaaaaaaaaaa")
    assert len(str(Difference("x", "a" * 100, 1))) < 90


def test_expectations_describe_themselves() -> None:
    fields = {"properties": {"plan": "pro"}, "userId": "u1", "event": "Signed Up"}
    assert Expectation(type="track", fields=fields).describe() == (
        "a track call with event='Signed Up', userId='u1', properties containing {'plan': 'pro'}"
    )
    assert Expectation(type="identify", count=2).describe() == "exactly 2 identify calls"
    assert Expectation(type="alias", count=1).describe() == "exactly 1 alias call"
    assert Expectation(type="page", count=0).describe() == "no page call"
    with pytest.raises(ValueError, match="count must not be negative"):
        Expectation(type="page", count=-1)


def test_the_query_narrows_by_the_indexed_fields_given_as_text() -> None:
    expectation = Expectation(type="track", fields={"event": "E", "userId": ANY, "anonymousId": "a1"})
    assert expectation.query("k") == CallQuery(write_key="k", type="track", event="E", anonymous_id="a1", accepted=True)


def test_near_misses_are_same_type_calls_with_fewest_differences_first() -> None:
    expectation = Expectation(type="track", fields={"event": "E", "userId": "u1", "properties": {"n": 1}})
    payloads: list[JSONObject] = [
        {"type": "track", "event": "F", "userId": "u2"},
        {"type": "identify", "userId": "u1"},
        {"type": "track", "event": "E", "userId": "u1", "properties": {"n": 2}},
        {"type": "track", "event": "E", "userId": "u1", "properties": {"n": 1}},
        {"type": "track", "event": "E", "userId": "u2", "properties": {"n": 1}},
    ]
    assert [index for index, _ in near_misses(expectation, payloads)] == [2, 4, 0]
    assert near_misses(expectation, payloads, most=1) == [(2, [Difference("properties.n", 1, 2)])]


def test_violations_point_into_the_calls_and_requests_of_a_test() -> None:
    warning = Violation("id.number", "warning", "/userId", "number")
    call = Call(1, 1, "k", "track", "t", "us", "/v1/track", True, True, (warning,), "m", "1", None, "E", None, b"{}")
    request = RequestRecord(
        1, "t", "POST", "/v1/track", "k", "basic", 200, True, None, None, (), (1,), 2, None, None, None
    )
    empty = request._replace(id=2, violations=(Violation("batch.empty", "error", "/batch", "empty"),))
    broken = request._replace(id=3, accepted=False, reason="request.json.invalid", message="not JSON")
    strict = request._replace(id=4, accepted=False, status=400, reason="spec.violation", message="1 violation")
    assert violations_of([call], [request, empty, broken, strict]) == [
        Violation("id.number", "warning", "/calls/0/userId", "number"),
        Violation("batch.empty", "error", "/requests/1/batch", "empty"),
        Violation("request.json.invalid", "error", "/requests/2", "not JSON"),
    ]
