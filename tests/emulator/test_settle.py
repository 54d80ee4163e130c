"""`GET /mockpipe/settle`: answers once no request of a write key has been in flight for a quiet period."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mockpipe import MockPipeServer
from mockpipe.emulator.in_flight import InFlight


@pytest.fixture
def http(server: MockPipeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_a_quiet_key_settles_with_its_counts(server: MockPipeServer, http: httpx.Client) -> None:
    http.post("/v1/track", json={"userId": "u1", "event": "E"}, auth=("k1", ""))
    http.post("/v1/track", json={"event": "E"}, auth=("k1", ""), headers={"X-Strict-Mode": "1"})
    answer = http.get("/mockpipe/settle", params={"writeKey": "k1", "quiet": "0.05"})
    assert answer.status_code == 200
    assert answer.json() | {"waited": 0} == {
        "writeKey": "k1",
        "settled": True,
        "inFlight": 0,
        "waited": 0,
        "calls": 2,
        "acceptedCalls": 1,
        "requests": 2,
        "rejectedRequests": 1,
    }


def test_a_request_in_flight_holds_the_answer_until_it_is_answered(server: MockPipeServer, http: httpx.Client) -> None:
    server.faults.delay(2000, count=1, write_key="slow")  # answered late: in flight meanwhile
    sender = threading.Thread(
        target=lambda: http.post("/v1/track", json={"userId": "u", "event": "E"}, auth=("slow", ""))
    )
    sender.start()
    ingest = server.app.ingest
    while not ingest.in_flight.counts:
        time.sleep(0.005)
    busy = http.get("/mockpipe/settle", params={"writeKey": "slow", "quiet": "0", "timeout": "0.05"})
    assert busy.status_code == 409
    assert busy.json()["code"] == "settle.timeout" and busy.json()["inFlight"] == 1
    assert "1 request(s) still in flight" in busy.json()["message"]
    other = http.get("/mockpipe/settle", params={"writeKey": "another", "quiet": "0", "timeout": "0.05"})
    assert other.status_code == 200  # another key's request does not hold it
    settled = http.get("/mockpipe/settle", params={"writeKey": "slow", "quiet": "0.05", "timeout": "20"})
    sender.join(20)
    assert settled.status_code == 200 and settled.json()["calls"] == 1


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "writeKey"),
        ({"writeKey": "k", "quiet": "soon"}, "quiet"),
        ({"writeKey": "k", "quiet": "-1"}, "quiet"),
        ({"writeKey": "k", "timeout": "1e9"}, "timeout"),
        ({"writeKey": "k", "wait": "1"}, "wait"),
    ],
)
def test_bad_parameters_are_named(http: httpx.Client, params: dict[str, str], named: str) -> None:
    answer = http.get("/mockpipe/settle", params=params)
    assert answer.status_code == 400 and named in answer.json()["message"]


def test_in_flight_counts_a_request_without_authorization_for_every_key() -> None:
    in_flight = InFlight()
    in_flight.counts = {b"Basic azE6": 2, None: 1}  # k1:
    in_flight.ended = {b"Basic azI6": 5.0, None: 3.0}  # k2:
    assert in_flight.of("k1") == (3, 3.0)
    assert in_flight.of("k2") == (1, 5.0)


def test_a_pending_settle_is_answered_when_the_server_stops_waiting(server: MockPipeServer, http: httpx.Client) -> None:
    server.faults.delay(60_000, count=1, write_key="held")

    def send_held() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as own:
            own.post("/v1/track", json={"userId": "u", "event": "E"}, auth=("held", ""))

    sender = threading.Thread(target=send_held)
    sender.start()
    while not server.app.ingest.in_flight.counts:
        time.sleep(0.005)
    answers: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(http.get("/mockpipe/settle", params={"writeKey": "held", "timeout": "120"}))
    )
    waiting.start()
    give_up = time.monotonic() + 30
    while waiting.is_alive() and time.monotonic() < give_up:  # until the settle has begun, and is answered
        server.journal.release_waiters()  # what the server does when it begins to stop
        waiting.join(0.1)
    assert not waiting.is_alive()
    assert answers[0].status_code == 409 and "when the server stopped" in answers[0].json()["message"]
    server.faults.release()  # the held answer goes out
    sender.join(30)
