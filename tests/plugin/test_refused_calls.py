"""Assertions count the calls the server accepted: a call refused with its request (a strict server's
400 for a batch with one bad item) never reached the service. The failure says it was refused, why, and,
when nothing arrived for the test's key, which other keys did receive calls."""

from __future__ import annotations

import httpx
import pytest
from pytest_mockpipe import MockPipe

from mockpipe import CallAssertionError
from tests.support.sending import Send

STRICT = {"X-Strict-Mode": "1"}
BAD_BATCH = {
    "batch": [
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
        {"type": "track", "event": "Order Completed"},  # neither userId nor anonymousId
    ]
}


def fails(action: object) -> str:
    with pytest.raises(CallAssertionError) as failure:
        action()  # type: ignore[operator]
    return str(failure.value)


@pytest.fixture
def refused(mockpipe: MockPipe, send: Send) -> MockPipe:
    mockpipe.timeout = 0.05
    mockpipe.violations_inspected = True  # sent invalid on purpose
    assert send(mockpipe, "batch", BAD_BATCH, **STRICT).status_code == 400
    return mockpipe


def test_a_refused_identify_does_not_satisfy_assert_identified(refused: MockPipe) -> None:
    message = fails(lambda: refused.assert_identified("u1"))
    assert "but no accepted call arrived for write key" in message
    assert "1 matching call was refused by the server" in message
    assert "[0] identify userId='u1': request #" in message
    assert "POST /v1/batch -> 400 spec.violation (under strict mode), broke identity.required" in message
    assert "this call was valid: another item of its batch was not" in message


@pytest.mark.parametrize(
    "assertion",
    [
        lambda pipe: pipe.assert_tracked("Order Completed"),
        lambda pipe: pipe.assert_call("identify", {"traits": {"plan": "pro"}}),
        lambda pipe: pipe.expect(type="identify"),
        lambda pipe: pipe.expect(2),
    ],
    ids=["assert_tracked", "assert_call", "expect", "expect-count"],
)
def test_no_assertion_counts_a_refused_call(refused: MockPipe, assertion: object) -> None:
    message = fails(lambda: assertion(refused))  # type: ignore[operator]
    assert "refused by the server" in message


def test_the_refused_track_names_its_own_broken_rule(refused: MockPipe) -> None:
    message = fails(lambda: refused.assert_tracked("Order Completed"))
    assert "this call broke identity.required" in message


def test_accepted_false_asserts_on_refused_calls_and_none_on_either(refused: MockPipe) -> None:
    assert refused.assert_identified("u1", accepted=False)[0]["traits"] == {"plan": "pro"}
    assert len(refused.assert_call("identify", accepted=None)) == 1
    assert len(refused.expect(2, accepted=False)) == 2
    refused.assert_no_calls(timeout=0.01)  # none accepted
    with pytest.raises(CallAssertionError):
        refused.assert_no_calls(timeout=0.01, accepted=False)


def test_accepted_false_names_the_accepted_calls_it_does_not_count(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "identify", {"userId": "u1"})
    message = fails(lambda: mockpipe.assert_identified("u1", accepted=False, timeout=0.05))
    assert "expected a refused identify call with userId='u1'" in message
    assert "1 matching call was accepted (the expectation counts refused ones)" in message


def test_a_permissive_server_accepts_the_same_batch(mockpipe: MockPipe, send: Send) -> None:
    mockpipe.violations_inspected = True
    assert send(mockpipe, "batch", BAD_BATCH).status_code == 200
    assert mockpipe.assert_identified("u1", timeout=1)


def test_no_call_names_the_other_write_keys_that_received_calls(mockpipe: MockPipe) -> None:
    with httpx.Client(base_url=mockpipe.url, auth=("wrong_key", "")) as http:
        for event in ("Order Completed", "Signed Up", "Order Completed"):
            http.post("/v1/track", json={"userId": "u1", "event": event})
        http.post("/v1/identify", json={"userId": "u1"})
    message = fails(lambda: mockpipe.assert_tracked("Order Completed", timeout=0.05))
    assert "but no call arrived for write key" in message
    assert "Calls did arrive with other write keys:" in message
    assert "  'wrong_key': 4 calls (Order Completed, Signed Up, identify)" in message
    expect_message = fails(lambda: mockpipe.expect(timeout=0.05))
    assert "'wrong_key': 4 call(s) (Order Completed, Signed Up, identify)" in expect_message


def test_other_keys_are_those_of_calls_since_the_test_began(mockpipe: MockPipe) -> None:
    message = fails(lambda: mockpipe.assert_tracked("Order Completed", timeout=0.05))
    assert "other write keys" not in message
