"""Forward: every accepted call reaches the destination once, through 503s and 429s, and the journal
shows where each call stands."""

from __future__ import annotations

import atexit
import base64
import threading
import time
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.relay.delivery import RetryPolicy
from mockpipe.relay.forward import Forwarder
from tests.support.flaky import flaky_server, terse_server
from tests.support.serve_process import ServeProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# One client for the module: a new one per request costs ~30 ms (its TLS context).
HTTP = httpx.Client(timeout=10)
atexit.register(HTTP.close)  # its kept-alive sockets would warn at exit, unclosed

FAST = RetryPolicy(attempts=30, base=0.01, cap=0.05)


def _post(url: str, path: str, body: object, key: str = "k1") -> httpx.Response:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return HTTP.post(url + path, content=orjson.dumps(body), headers={"Authorization": auth})


def _forward_status(server: MockPipeServer, call_id: int) -> dict[str, object]:
    status: dict[str, object] = HTTP.get(server.url_for(f"/mockpipe/calls/{call_id}")).json()["forward"]
    return status


@pytest.fixture
def front() -> Iterator[MockPipeServer]:
    with MockPipeServer() as server:
        yield server


def test_every_call_is_delivered_once_through_503s(front: MockPipeServer) -> None:
    upstream, flaky = flaky_server(failures=4, status=503)
    with upstream:
        forwarder = Forwarder(upstream.url, policy=FAST)
        forwarder.attach(front.journal)

        def client(thread: int) -> None:
            for number in range(20):
                calls = [
                    {"type": "track", "userId": f"u{thread}", "event": "Sent", "messageId": f"{thread}-{number}-{i}"}
                    for i in range(5)
                ]
                body: object = {"batch": calls} if number % 2 else calls[0]
                path = "/v1/batch" if number % 2 else "/v1/track"
                assert _post(front.url, path, body, key=f"k{thread}").status_code == 200

        threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = front.calls()
        assert len(sent) == 3 * (10 + 10 * 5)
        assert forwarder.flush(30)
        forwarder.close()

        received = upstream.calls(duplicates=True)  # resends would show here
        assert sorted(call.message_id for call in received) == sorted(call.message_id for call in sent)
        assert {(call.write_key, call.message_id) for call in received} == {
            (call.write_key, call.message_id) for call in sent
        }
        assert flaky.refusals == 4
        assert forwarder.delivered == len(sent) and forwarder.failed == 0 and forwarder.pending == 0
        statuses = [_forward_status(front, call.id) for call in sent]
        assert {status["status"] for status in statuses} == {"delivered"}
        assert max(int(str(status["attempts"])) for status in statuses) > 1


def test_the_journal_shows_pending_then_delivered_and_clients_never_wait(front: MockPipeServer) -> None:
    upstream, flaky = flaky_server(failures=10**6, status=503, notify_after=2)
    with upstream:
        forwarder = Forwarder(upstream.url, policy=RetryPolicy(attempts=10**6, base=0.01, cap=0.02))
        forwarder.attach(front.journal)
        assert _post(front.url, "/v1/track", {"userId": "u1", "event": "Waiting"}).status_code == 200
        assert flaky.refused.wait(10)
        status = _forward_status(front, 1)
        assert status["status"] == "pending"
        assert str(status["reason"]).startswith("retrying after HTTP 503")
        # The destination is down, yet the emulator answers at once.
        assert _post(front.url, "/v1/track", {"userId": "u1", "event": "Also"}).status_code == 200
        flaky.failures = 0
        assert forwarder.flush(10)
        assert _forward_status(front, 1)["status"] == "delivered"
        assert _forward_status(front, 1)["httpStatus"] == 200
        assert [call.event for call in upstream.calls()] == ["Waiting", "Also"]
        forwarder.close()


def test_retry_after_is_honoured(front: MockPipeServer) -> None:
    upstream, flaky = flaky_server(failures=1, status=429, retry_after="0.3")
    with upstream:
        forwarder = Forwarder(upstream.url, policy=FAST)
        forwarder.attach(front.journal)
        _post(front.url, "/v1/track", {"userId": "u1", "event": "Throttled"})
        assert forwarder.flush(10)
        forwarder.close()
        assert len(upstream.calls()) == 1
        assert flaky.arrivals[1] - flaky.arrivals[0] >= 0.3


def test_a_refused_call_fails_at_once_with_the_reason(front: MockPipeServer) -> None:
    with MockPipeServer(strict=True, write_keys={"good"}) as upstream:
        forwarder = Forwarder(upstream.url, write_key="bad", policy=FAST)
        forwarder.attach(front.journal)
        _post(front.url, "/v1/track", {"userId": "u1", "event": "Refused"})
        assert forwarder.flush(10)
        forwarder.close()
        status = _forward_status(front, 1)
        assert (status["status"], status["attempts"], status["httpStatus"]) == ("failed", 1, 401)
        assert "HTTP 401" in str(status["reason"])
        assert forwarder.failed == 1


def test_resends_rejected_and_oversized_calls_are_not_forwarded() -> None:
    with MockPipeServer(max_call_bytes=64 * 1024) as front, MockPipeServer() as upstream:
        forwarder = Forwarder(upstream.url, policy=FAST)
        forwarder.attach(front.journal)
        _post(front.url, "/v1/track", {"userId": "u1", "event": "Once", "messageId": "same"})
        _post(front.url, "/v1/track", {"userId": "u1", "event": "Once", "messageId": "same"})  # an SDK's resend
        _post(front.url, "/v1/track", {"userId": "u1", "event": "Big", "properties": {"blob": "x" * 40_000}})
        HTTP.post(
            front.url_for("/v1/track"),
            content=b'{"event": "strict"}',
            headers={"Authorization": "Bearer k1", "X-Strict-Mode": "1"},
        )  # answered 400, not accepted
        assert forwarder.flush(10)
        forwarder.close()
        assert [call.event for call in upstream.calls(duplicates=True)] == ["Once"]
        assert _forward_status(front, 2) == {**_forward_status(front, 2), "status": "skipped"}
        assert "over the 32768-byte limit" in str(_forward_status(front, 3)["reason"])
        assert "forward" not in HTTP.get(front.url_for("/mockpipe/calls/4")).json()


def test_serve_forward_with_a_forward_key() -> None:
    with MockPipeServer() as upstream, ServeProcess("--forward", upstream.url, "--forward-key", "fk") as serve:
        assert _post(serve.url, "/v1/identify", {"userId": "u1", "traits": {"plan": "pro"}}).status_code == 200
        result = upstream.wait_for(1, 10, write_key="fk")
        assert not result.timed_out and result.calls[0].user_id == "u1"
        out = serve.stop()
    assert "forwarded 1 call(s), 0 failed, 0 left undelivered" in out


def test_bad_forward_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from mockpipe.cli import main

    assert main(["serve", "--port", "0", "--forward", "not a url"]) == 1
    assert "not an http(s) URL" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--forward-key", "k"]) == 1
    assert "--forward-key needs --forward" in capsys.readouterr().err


@pytest.mark.parametrize("terse", [False, True], ids=["violation-paths", "meta-errors-only"])
def test_a_strict_destination_fails_only_the_invalid_calls(front: MockPipeServer, terse: bool) -> None:
    upstream = terse_server(strict=True)[0] if terse else MockPipeServer(strict=True)
    with upstream:
        forwarder = Forwarder(upstream.url, policy=FAST)
        forwarder.attach(front.journal)
        calls = [{"type": "track", "userId": "u1", "event": f"E{n}"} for n in range(7)]
        calls[5] = {"type": "track", "event": "Nobody"}  # accepted here (permissive), refused there (strict)
        assert _post(front.url, "/v1/batch", {"batch": calls}).status_code == 200
        assert forwarder.flush(10)
        forwarder.close()
        assert [call.event for call in upstream.calls(accepted=True)] == ["E0", "E1", "E2", "E3", "E4", "E6"]
        assert (forwarder.delivered, forwarder.failed) == (6, 1)
        failed = _forward_status(front, 6)
        assert (failed["status"], failed["httpStatus"]) == ("failed", 400)
        assert failed["reason"] == "HTTP 400: track call has neither userId nor anonymousId (nor groupId)"
        assert {_forward_status(front, n)["status"] for n in (1, 2, 3, 4, 5, 7)} == {"delivered"}


def _wait_for_status(url: str, call_ids: list[int], status: str, timeout: float = 10) -> None:
    """Until each call's forward status is `status`: it is set just after the destination answered."""
    deadline = time.monotonic() + timeout
    while True:
        seen = [
            HTTP.get(f"{url}/mockpipe/calls/{call_id}").json().get("forward", {}).get("status") for call_id in call_ids
        ]
        if seen == [status] * len(call_ids):
            return
        assert time.monotonic() < deadline, f"forward statuses {seen}, not {status}"
        time.sleep(0.02)


def test_serve_forward_with_a_store_resends_what_a_kill_left_pending(tmp_path: Path) -> None:
    store = str(tmp_path / "journal.db")
    upstream, flaky = flaky_server(failures=10**6, status=503)
    with upstream:
        with ServeProcess("--store", store, "--forward", upstream.url) as first:
            for event in ("A", "B", "C"):
                assert _post(first.url, "/v1/track", {"userId": "u1", "event": event}).status_code == 200
            # A duplicate is skipped, and kept skipped.
            _post(first.url, "/v1/track", {"userId": "u1", "event": "C", "messageId": "same"})
            _post(first.url, "/v1/track", {"userId": "u1", "event": "C", "messageId": "same"})
            assert flaky.refused.wait(10)  # the forwarder is backing off: the calls are pending
            first.kill()  # SIGKILL: what was queued in memory is gone
        assert upstream.calls() == []
        with ServeProcess("--store", store) as idle:  # without --forward: told, and kept pending
            out = idle.stop()
        assert f"4 call(s) left pending for {upstream.url}/v1/batch: start with --forward" in out
        flaky.failures = 0
        with ServeProcess("--store", store, "--forward", upstream.url) as second:
            result = upstream.wait_for(4, 10)
            assert not result.timed_out, "the pending calls were not sent again"
            assert [call.event for call in result.calls] == ["A", "B", "C", "C"]
            _wait_for_status(second.url, [1, 2, 3, 4], "delivered")
            assert HTTP.get(second.url + "/mockpipe/calls/5").json()["forward"]["status"] == "skipped"
            out = second.stop()
        assert "4 call(s) left pending by an earlier run, queued again" in out
        assert "forwarded 4 call(s), 0 failed, 0 left undelivered" in out
        with ServeProcess("--store", store, "--forward", upstream.url) as third:  # nothing is sent twice
            assert HTTP.get(third.url + "/mockpipe/calls/1").json()["forward"]["status"] == "delivered"
            out = third.stop()
        assert "left pending" not in out
        assert len(upstream.calls(duplicates=True)) == 4


def test_a_call_production_would_drop_is_not_forwarded() -> None:
    with MockPipeServer() as front, MockPipeServer() as upstream:  # both emulate the US region
        forwarder = Forwarder(upstream.url, policy=FAST)
        forwarder.attach(front.journal)
        assert _post(front.url, "/v1/track", {"userId": "u1", "event": "EU key"}, key="pk_eu_0123").status_code == 200
        assert _post(front.url, "/v1/track", {"userId": "u1", "event": "US key"}).status_code == 200
        assert forwarder.flush(10)
        forwarder.close()
        assert [call.event for call in upstream.calls(duplicates=True)] == ["US key"]
        skipped = _forward_status(front, 1)
        assert skipped["status"] == "skipped"
        assert "production would drop it (writeKey.region)" in str(skipped["reason"])
        assert _forward_status(front, 2)["status"] == "delivered"
        assert forwarder.skipped == 1


def _with_credentials(url: str) -> str:
    return url.replace("http://", "http://alice:s3cret@", 1)


def test_credentials_in_the_forward_url_are_masked_wherever_it_is_shown(tmp_path: Path) -> None:
    from mockpipe.relay.delivery import batch_url, masked_url

    assert masked_url("https://alice:s3cret@example.com/v1") == "https://alice:***@example.com/v1"
    assert masked_url("https://KEY123@example.com") == "https://***@example.com"
    with pytest.raises(ValueError, match=r"alice:\*\*\*@") as refused:
        batch_url("ftp://alice:s3cret@example.com")
    assert "s3cret" not in str(refused.value)
    store = tmp_path / "journal.db"
    with MockPipeServer() as upstream:
        masked = upstream.url.replace("http://", "http://alice:***@") + "/v1/batch"
        with ServeProcess("--store", str(store), "--forward", _with_credentials(upstream.url)) as serve:
            assert _post(serve.url, "/v1/track", {"userId": "u1", "event": "A"}).status_code == 200
            result = upstream.wait_for(1, 10)  # sent, to the host without the credentials
            assert not result.timed_out
            _wait_for_status(serve.url, [1], "delivered")
            shown = HTTP.get(serve.url + "/mockpipe/calls").text
            serve.process.terminate()
            out, err = serve.process.communicate(timeout=30)
        printed = out.decode() + err.decode()
        assert f"forwarding accepted calls to {masked}" in printed
        assert "s3cret" not in printed + shown
        assert b"s3cret" not in store.read_bytes()  # the store keys the forward status by the masked URL
    with pytest.raises(ValueError, match="not an http"):
        Forwarder("http://alice:s3cret@host:port")


def test_a_password_an_older_store_kept_for_pending_calls_is_masked_in_the_notes(tmp_path: Path) -> None:
    from mockpipe.emulator.emulator import Emulator

    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server:
        assert server.store is not None
        server.store.track_forwards("http://alice:s3cret@example.com/v1/batch", lambda call: {"status": "pending"})
        _post(server.url, "/v1/track", {"userId": "u1", "event": "A"})
    emulator = Emulator.build(store=path)
    try:
        assert emulator.notes[-1] == (
            "1 call(s) left pending for http://alice:***@example.com/v1/batch: "
            "start with --forward http://alice:***@example.com/v1/batch to send them"
        )
    finally:
        emulator.close()
