"""Permissive requests answered ahead of processing (issue 17): which requests are left to the journal's
backlog, when the drainer processes it without a read, and what processing later keeps as it was when
the request arrived (its plan, no fault rule, its time)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator

import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.plans import loads_plan
from tests.conftest import Client

TRACK = {"userId": "u1", "event": "Drained", "messageId": "m-1", "timestamp": "2026-12-04T10:00:00.000Z"}


def _track(number: int) -> dict[str, object]:
    return {**TRACK, "messageId": f"m-{number}"}


@pytest.fixture
def lazy() -> Iterator[tuple[MockPipeServer, Client]]:
    """A server that processes only when read (no idle processing)."""
    with MockPipeServer(process_when_idle=False) as server:
        client = Client(server)
        try:
            yield server, client
        finally:
            client.close()


def _waiting(server: MockPipeServer) -> int:
    return len(server.journal.backlog)  # the queue itself: a read of the journal would process it


def test_a_permissive_request_is_answered_before_it_is_processed_and_read_as_processed(
    lazy: tuple[MockPipeServer, Client],
) -> None:
    server, client = lazy
    for number in range(3):
        assert client.post("/v1/track", _track(number)).status_code == 200
    assert _waiting(server) == 3
    calls = server.calls()  # every read processes what was answered first
    assert [call.message_id for call in calls] == ["m-0", "m-1", "m-2"]
    assert _waiting(server) == 0


@pytest.mark.parametrize(
    "headers",
    [{"X-Strict-Mode": "1"}, {"x-strict-mode": "true"}],
    ids=["strict", "strict-lower"],
)
def test_a_strict_request_is_processed_before_its_answer_after_those_answered_before(
    lazy: tuple[MockPipeServer, Client], headers: dict[str, str]
) -> None:
    server, client = lazy
    assert client.post("/v1/track", _track(1)).status_code == 200
    assert client.post("/v1/track", _track(2), headers=headers).status_code == 200
    assert _waiting(server) == 0  # the strict one processed the one before it, then itself
    assert [call.message_id for call in server.calls()] == ["m-1", "m-2"]
    assert [request.id for request in server.journal.requests()] == [1, 2]


def test_requests_are_processed_before_their_answer_while_a_fault_rule_is_set(
    lazy: tuple[MockPipeServer, Client],
) -> None:
    server, client = lazy
    assert client.post("/v1/track", _track(1)).status_code == 200
    server.emulator.faults.add(write_key="another key", status=500, count=None)  # set, never matching
    assert client.post("/v1/track", _track(2)).status_code == 200
    assert _waiting(server) == 0  # the first processed before the second, the second before its answer
    server.emulator.faults.add(status=500, count=1)
    assert client.post("/v1/track", _track(3)).status_code == 500  # taken by the rule
    server.emulator.faults.clear()
    assert client.post("/v1/track", _track(4)).status_code == 200
    assert _waiting(server) == 1  # no rule set: answered ahead again
    assert [call.message_id for call in server.calls()] == ["m-1", "m-2", "m-4"]
    assert [request.status for request in server.journal.requests()] == [200, 200, 500, 200]


def test_a_fault_rule_set_later_does_not_take_a_request_answered_before(
    lazy: tuple[MockPipeServer, Client],
) -> None:
    server, client = lazy
    assert client.post("/v1/track", _track(1)).status_code == 200
    server.emulator.faults.add(status=500, count=1)  # processing the first one now must not spend it
    assert [call.message_id for call in server.calls()] == ["m-1"]
    assert client.post("/v1/track", _track(2)).status_code == 500


def test_a_body_that_may_hold_more_than_a_slice_of_calls_is_processed_before_its_answer(
    lazy: tuple[MockPipeServer, Client],
) -> None:
    server, client = lazy
    many = {"batch": [{"type": "track", "userId": "u", "event": "E"} for _ in range(1_001)]}
    assert client.post("/v1/batch", many).status_code == 200
    assert _waiting(server) == 0
    few = {"batch": [{"type": "track", "userId": "u", "event": "E"} for _ in range(999)]}  # 1,000 `{` in all
    assert client.post("/v1/batch", few).status_code == 200
    assert _waiting(server) == 1
    assert server.journal.count() == 2_000


def test_a_durable_listener_makes_every_request_processed_before_its_answer(
    lazy: tuple[MockPipeServer, Client],
) -> None:
    server, client = lazy
    kept: list[int] = []
    unsubscribe = server.journal.subscribe(lambda request, calls: kept.append(request.id), durable=True)
    try:
        assert client.post("/v1/track", _track(1)).status_code == 200
        assert kept == [1] and _waiting(server) == 0
    finally:
        unsubscribe()


def test_a_request_answered_before_a_plan_is_checked_against_the_plan_in_force_when_it_arrived(
    lazy: tuple[MockPipeServer, Client],
) -> None:
    server, client = lazy
    assert client.post("/v1/track", _track(1)).status_code == 200
    assert _waiting(server) == 1
    server.plans.set(loads_plan("mockpipe_plan: 1\nallow_unplanned_events: false\ntrack:\n  Signed Up: {}\n"))
    assert _waiting(server) == 0  # processed before the plan changed
    assert client.post("/v1/track", _track(2)).status_code == 200
    first, second = server.calls()
    assert first.violations == ()
    assert [violation.code for violation in second.violations] == ["plan.event.unplanned"]


def test_the_time_of_a_call_is_the_time_its_request_arrived(lazy: tuple[MockPipeServer, Client]) -> None:
    server, client = lazy
    assert client.post("/v1/track", {"userId": "u1", "event": "No Time"}).status_code == 200
    sent = time.time()
    time.sleep(0.3)
    (call,) = server.calls()
    received = call.payload["receivedAt"]
    assert received == call.payload["timestamp"]  # no timestamp sent: the time it arrived
    assert abs(_seconds(received) - sent) < 0.25  # not the time it was processed, 0.3 s later


def _seconds(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_a_quiet_server_processes_its_backlog_without_a_read() -> None:
    with MockPipeServer() as server:  # processes when quiet, the default
        client = Client(server)
        try:
            for number in range(5):
                assert client.post("/v1/track", _track(number)).status_code == 200
            deadline = time.monotonic() + 10
            while _waiting(server) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert _waiting(server) == 0
            assert server.journal.count() == 5
        finally:
            client.close()


def test_without_idle_processing_the_backlog_waits_for_a_read(lazy: tuple[MockPipeServer, Client]) -> None:
    server, client = lazy
    assert client.post("/v1/track", _track(1)).status_code == 200
    time.sleep(0.3)  # six times the quiet time after which a default server would have processed it
    assert _waiting(server) == 1


def test_a_follower_has_calls_processed_as_they_come(lazy: tuple[MockPipeServer, Client]) -> None:
    server, client = lazy
    server.journal.backlog.follow(+1)  # as the UI's live view or a forwarder does
    try:
        assert client.post("/v1/track", _track(1)).status_code == 200
        deadline = time.monotonic() + 10
        while _waiting(server) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert _waiting(server) == 0
    finally:
        server.journal.backlog.follow(-1)


def test_a_bounded_journal_bounds_its_backlog() -> None:
    with MockPipeServer(process_when_idle=False, max_calls=5) as server:
        client = Client(server)
        try:
            for number in range(40):
                assert client.post("/v1/track", _track(number)).status_code == 200
                assert _waiting(server) <= 6
            assert [call.message_id for call in server.calls()] == [f"m-{n}" for n in range(35, 40)]
        finally:
            client.close()


def test_a_request_mockpipe_fails_to_process_later_is_kept_with_the_reason(
    lazy: tuple[MockPipeServer, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = lazy
    from mockpipe.emulator import ingest

    split = ingest.split_request  # type: ignore[attr-defined]  # the name ingest calls, patched there

    def broken(path_type: str, body: dict[str, object], **options: object) -> object:
        if body.get("event") == "Breaks mockpipe":
            raise RuntimeError("a bug")
        return split(path_type, body, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "split_request", broken)
    assert client.post("/v1/track", {**TRACK, "event": "Breaks mockpipe"}).status_code == 200
    assert client.post("/v1/track", _track(2)).status_code == 200
    failed, fine = server.journal.requests()
    assert (failed.accepted, failed.reason, failed.status) == (False, "mockpipe.internal", 200)
    assert failed.body is not None and b"Breaks mockpipe" in failed.body
    assert fine.accepted and [call.message_id for call in server.calls()] == ["m-2"]


def test_a_compressed_body_is_processed_before_its_answer(lazy: tuple[MockPipeServer, Client]) -> None:
    server, client = lazy
    body = gzip.compress(orjson.dumps({"batch": [_track(n) | {"type": "track"} for n in range(5)]}))
    assert client.post("/v1/batch", content=body, headers={"Content-Encoding": "gzip"}).status_code == 200
    assert _waiting(server) == 0  # its calls cannot be counted without inflating it: taken now
    assert server.journal.count() == 5


def test_requests_that_do_not_read_the_journal_do_not_wait_for_the_backlog(
    lazy: tuple[MockPipeServer, Client],
) -> None:
    server, client = lazy
    assert client.post("/v1/track", _track(1)).status_code == 200
    preflight = client.http.options(
        "/v1/track", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code in (200, 204)
    assert client.http.get("/v1/projects/wk_test/settings").status_code == 200
    assert _waiting(server) == 1  # the SDK's settings and a preflight left it alone
    assert client.http.get("/mockpipe/calls").json()["total"] == 1  # the inspection API reads it
    assert _waiting(server) == 0
