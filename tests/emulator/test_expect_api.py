"""`POST /mockpipe/expect`: the Python assertions' verdicts and explanations, over HTTP.

The shared table (tests/testing/expect_cases.py) runs each case through `MockPipe.assert_call` and the
endpoint, on the same calls: same verdict, same matches, and the same explanation, word for word."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from pytest_mockpipe import MockPipe

from mockpipe import CallAssertionError, MockPipeServer
from tests.testing.expect_cases import CASES, Case

TIMEOUT = 0.1


@pytest.fixture(scope="module")
def shared() -> Iterator[MockPipeServer]:
    with MockPipeServer() as running:
        yield running


@pytest.fixture
def http(shared: MockPipeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_python_and_http_give_the_same_verdict(shared: MockPipeServer, http: httpx.Client, case: Case) -> None:
    pipe = MockPipe(shared, timeout=TIMEOUT, grace=TIMEOUT)
    for endpoint, body, headers in case.sends:
        http.post(f"/v1/{endpoint}", json=body, auth=(pipe.write_key, ""), headers=headers)
    spec = case.expect
    python: tuple[bool, int, str | None]
    try:
        found = pipe.assert_call(
            spec["type"],
            spec.get("fields"),
            count=spec.get("count"),
            accepted=spec.get("accepted", True),
            timeout=TIMEOUT,
        )
        python = (True, len(found), None)
    except CallAssertionError as failure:
        python = (False, len(failure.explanation.matched), str(failure))
    answer = http.post(
        "/mockpipe/expect", json={**spec, "writeKey": pipe.write_key, "timeout": TIMEOUT, "since": pipe.since}
    )
    assert answer.status_code in (200, 409)
    body = answer.json()
    over_http = (
        (True, body["matched"], None) if answer.status_code == 200 else (False, body["matched"], body["message"])
    )
    assert python == over_http
    assert python[:2] == (case.passes, case.matched)
    if answer.status_code == 200:
        assert [call["payload"] for call in body["calls"]] == found
        assert all(call["writeKey"] == pipe.write_key for call in body["calls"])
    else:
        assert body["code"] == "expect.failed" and body["writeKey"] == pipe.write_key


def test_the_answer_comes_as_soon_as_the_call_lands(shared: MockPipeServer, http: httpx.Client) -> None:
    pipe = MockPipe(shared)
    answers: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            http.post("/mockpipe/expect", json={"type": "track", "writeKey": pipe.write_key, "timeout": 60})
        )
    )
    waiting.start()
    while not shared.journal.pending_waits:  # the long-poll is waiting on the journal
        threading.Event().wait(0.01)
    http.post("/v1/track", json={"userId": "u1", "event": "Late"}, auth=(pipe.write_key, ""))
    waiting.join(30)
    assert not waiting.is_alive()
    assert answers[0].status_code == 200 and answers[0].json()["calls"][0]["payload"]["event"] == "Late"


def test_a_failure_carries_the_parts_of_the_explanation(shared: MockPipeServer, http: httpx.Client) -> None:
    pipe = MockPipe(shared)
    http.post(
        "/v1/track",
        json={"userId": "u1", "event": "Order Completed", "properties": {"revenue": 9}},
        auth=(pipe.write_key, ""),
    )
    http.post("/v1/track", json={"userId": "u2", "event": "Elsewhere"}, auth=(f"{pipe.write_key}_other", ""))
    spec = {"type": "track", "fields": {"event": "Order Completed", "properties": {"revenue": 99.5}}}
    body = http.post("/mockpipe/expect", json={**spec, "writeKey": pipe.write_key, "timeout": 0}).json()
    assert body["verdict"] == "no_match" and body["received"] == 1
    assert body["closest"][0]["differences"] == [{"path": "properties.revenue", "expected": 99.5, "actual": 9}]
    assert "properties.revenue: expected 99.5, got 9" in body["message"]
    nothing = http.post(
        "/mockpipe/expect",
        json={"type": "page", "writeKey": f"{pipe.write_key}_none", "timeout": 0, "since": pipe.since},
    )
    parts = nothing.json()
    assert parts["verdict"] == "no_calls"
    keys = {entry["writeKey"]: entry for entry in parts["otherKeys"]}
    assert keys[f"{pipe.write_key}_other"] == {
        "writeKey": f"{pipe.write_key}_other",
        "calls": 1,
        "events": ["Elsewhere"],
    }


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"type": "track"}, "writeKey"),
        ({"type": "trak", "writeKey": "k"}, "type"),
        ({"type": "track", "writeKey": "k", "fields": [1]}, "fields"),
        ({"type": "track", "writeKey": "k", "count": -1}, "count"),
        ({"type": "track", "writeKey": "k", "count": "1"}, "count"),
        ({"type": "track", "writeKey": "k", "timeout": 301}, "timeout"),
        ({"type": "track", "writeKey": "k", "timeout": "5"}, "timeout"),
        ({"type": "track", "writeKey": "k", "accepted": "yes"}, "accepted"),
        ({"type": "track", "writeKey": "k", "since": -1}, "since"),
        ({"type": "track", "writeKey": "k", "feilds": {}}, "feilds"),
        ([1], "JSON object"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(http: httpx.Client, body: object, named: str) -> None:
    answer = http.post("/mockpipe/expect", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "expect.invalid" and named in answer.json()["message"]


def test_a_body_that_is_not_json_is_refused(http: httpx.Client) -> None:
    answer = http.post("/mockpipe/expect", content=b"{nope", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "not JSON" in answer.json()["message"]


def test_the_guard_of_the_inspection_api_stands_in_front(http: httpx.Client) -> None:
    foreign = http.post(
        "/mockpipe/expect", json={"type": "track", "writeKey": "k"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin.forbidden"
    form = http.post("/mockpipe/expect", content=b"type=track", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415


def test_a_pending_expectation_is_answered_when_the_server_stops_waiting(
    shared: MockPipeServer, http: httpx.Client
) -> None:
    answers: list[httpx.Response] = []
    body = {"type": "track", "writeKey": "nobody_sends_this", "timeout": 120}
    waiting = threading.Thread(target=lambda: answers.append(http.post("/mockpipe/expect", json=body)))
    waiting.start()
    while not shared.journal.pending_waits:
        threading.Event().wait(0.01)
    shared.journal.release_waiters()  # what the server does when it begins to stop
    waiting.join(30)
    assert not waiting.is_alive()
    assert answers[0].status_code == 409 and answers[0].json()["verdict"] == "no_calls"
