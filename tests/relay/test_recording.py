"""Recordings: `serve --record`, the formats replay reads, and replay itself (limits, retries, rate, report)."""

from __future__ import annotations

import atexit
import base64
import io
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli import main
from mockpipe.relay.delivery import RetryPolicy, send
from mockpipe.relay.forward import DEFAULT_POLICY
from mockpipe.relay.recording import Recorder, read_calls, recording_path
from mockpipe.relay.replay import Progress, replay
from mockpipe.spec.limits import MAX_BATCH_BYTES, MAX_CALL_BYTES
from tests.support.flaky import flaky_server, terse_server
from tests.support.paths import SDK_CAPTURES
from tests.support.serve_process import ServeProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

# One client for the module: a new one per request costs ~30 ms (its TLS context).
HTTP = httpx.Client(timeout=10)
atexit.register(HTTP.close)  # its kept-alive sockets would warn at exit, unclosed

CAPTURES = SDK_CAPTURES
FAST = RetryPolicy(attempts=5, base=0.01, cap=0.05)


def _post(url: str, path: str, body: object, key: str = "k1", **headers: str) -> httpx.Response:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return HTTP.post(url + path, content=orjson.dumps(body), headers={"Authorization": auth, **headers})


@pytest.fixture
def target() -> Iterator[MockPipeServer]:
    with MockPipeServer() as server:
        yield server


def test_recording_path_puts_bare_names_in_recordings() -> None:
    assert recording_path("today.jsonl") == Path("recordings/today.jsonl")
    assert recording_path("./today.jsonl") == Path("today.jsonl")
    assert recording_path("out/today.jsonl") == Path("out/today.jsonl")
    assert recording_path("/tmp/today.jsonl") == Path("/tmp/today.jsonl")


def test_serve_record_appends_accepted_calls_as_they_arrive(tmp_path: Path) -> None:
    with ServeProcess("--record", "session.jsonl", "--strict", cwd=str(tmp_path)) as serve:
        assert _post(serve.url, "/v1/track", {"userId": "u1", "event": "Kept"}).status_code == 200
        assert _post(serve.url, "/v1/track", {"event": "No One"}).status_code == 400  # strict: not accepted
        assert (
            _post(
                serve.url,
                "/v1/batch",
                {
                    "batch": [
                        {"type": "page", "anonymousId": "a1", "name": "Home"},
                        {"type": "identify", "userId": "u1"},
                    ]
                },
            ).status_code
            == 200
        )
        recording = tmp_path / "recordings" / "session.jsonl"
        # Written before each answer: readable while the server runs, and kill -9 loses nothing.
        lines = [orjson.loads(line) for line in recording.read_bytes().splitlines()]
        serve.kill()
    assert [(line["id"], line["type"]) for line in lines] == [(1, "track"), (3, "page"), (4, "identify")]
    first = lines[0]
    assert set(first) == {
        "id",
        "requestId",
        "writeKey",
        "type",
        "receivedAt",
        "region",
        "path",
        "valid",
        "accepted",
        "violations",
        "messageId",
        "duplicateOf",
        "attempts",
        "payload",
    }
    assert first["writeKey"] == "k1" and first["payload"]["event"] == "Kept" and first["valid"] is True


def test_recorder_keeps_violations_and_appends(tmp_path: Path, target: MockPipeServer) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b'{"earlier": "line"}\n')
    recorder = Recorder(path)
    target.journal.subscribe(recorder.write, durable=True)  # as the emulator does: written before the answer
    _post(target.url, "/v1/track", {"userId": 42, "event": "Numbered"})
    recorder.close()
    lines = path.read_bytes().splitlines()
    assert lines[0] == b'{"earlier": "line"}'
    assert [v["code"] for v in orjson.loads(lines[1])["violations"]] == ["id.number"]


def test_read_calls_understands_the_three_formats() -> None:
    journaled = {
        "id": 7,
        "writeKey": "k1",
        "type": "track",
        "payload": {"type": "track", "userId": "u1", "event": "A", "messageId": "m1"},
    }
    plain = {"type": "identify", "userId": "u2", "writeKey": "k2"}
    envelope = {
        "batch": [{"type": "track", "userId": "u3", "event": "B"}],
        "context": {"ip": "1.2.3.4"},
        "sentAt": "2026-01-01T00:00:00Z",
    }
    capture_headers = [["Authorization", "Basic " + base64.b64encode(b"k3:").decode()]]
    captured = [
        {"method": "GET", "path": "/v1/projects/k3/settings", "headers": capture_headers},
        {"method": "POST", "path": "/v1/p", "headers": capture_headers, "json": {"anonymousId": "a1", "name": "Home"}},
        {
            "method": "POST",
            "path": "/v1/batch",
            "headers": [],
            "json": {"writeKey": "k4", "batch": [{"type": "alias", "userId": "u4", "previousId": "a4"}]},
        },
    ]
    lines = [orjson.dumps(x) for x in (journaled, plain, envelope, *captured)] + [
        b"",
        b"{not json",
        b"[1]",
        b'{"type": "nonsense"}',
        b'{"batch": [1]}',
    ]
    read = list(read_calls(lines))
    good = [(r.line, r.write_key, r.payload["type"]) for r in read if r.payload is not None]
    assert good == [
        (1, "k1", "track"),
        (2, "k2", "identify"),
        (3, None, "track"),
        (5, "k3", "page"),
        (6, "k4", "alias"),
    ]
    assert read[0].payload == journaled["payload"]
    assert read[2].payload is not None and read[2].payload["context"] == {"ip": "1.2.3.4"}  # the batch's shared fields
    assert read[2].payload["sentAt"] == "2026-01-01T00:00:00Z"
    problems = [(r.line, r.problem) for r in read if r.payload is None]
    assert [line for line, _ in problems] == [8, 9, 10, 11]
    assert "not JSON" in str(problems[0][1]) and "batch item" in str(problems[3][1])


@pytest.mark.parametrize("capture", sorted(CAPTURES.glob("*.jsonl")), ids=lambda p: p.stem)
def test_replay_of_sdk_captures_delivers_every_captured_call(capture: Path, target: MockPipeServer) -> None:
    expected = set()
    for line in capture.read_bytes().splitlines():
        record = orjson.loads(line)
        body = record.get("json")
        if record["method"] == "POST" and isinstance(body, dict):
            expected |= {item["messageId"] for item in body.get("batch", [body])}
    with capture.open("rb") as source:
        report = replay(source, target.url)
    assert report.ok and report.accepted == len(expected) > 0
    assert {call.message_id for call in target.calls()} == expected
    assert {call.write_key for call in target.calls()} == {"wk_test_123"}


def test_replay_of_100_000_calls_arrives_complete_in_batches_near_the_limit(
    tmp_path: Path, target: MockPipeServer
) -> None:
    total = 100_000
    path = tmp_path / "big.jsonl"
    filler = "x" * 180
    template = (
        b'{"id":%d,"writeKey":"k1","type":"track","payload":{"type":"track","userId":"u%d",'
        b'"event":"Replayed","messageId":"m-%d","properties":{"n":%d,"filler":"' + filler.encode() + b'"}}}\n'
    )
    path.write_bytes(b"".join(template % (n, n % 997, n, n) for n in range(total)))

    stderr = io.StringIO()
    with path.open("rb") as source:
        report = replay(source, target.url, progress=Progress(path.stat().st_size, stream=stderr))
    assert (report.calls, report.accepted, report.rejected) == (total, total, 0), report.summary()
    assert len(target.journal) == total
    assert {call.message_id for call in target.calls()} == {f"m-{n}" for n in range(total)}
    sizes = [request.size for request in target.requests()]
    assert len(sizes) == report.requests
    assert max(sizes) <= MAX_BATCH_BYTES and min(sizes[:-1]) > MAX_BATCH_BYTES - 1024  # full batches
    assert stderr.getvalue() == ""  # not a terminal: no progress lines (the bar is tested in tests/cli)


def test_replay_rejects_calls_over_the_limit_and_lines_without_a_key(target: MockPipeServer) -> None:
    big = {"type": "track", "userId": "u1", "event": "Big", "properties": {"blob": "x" * MAX_CALL_BYTES}}
    lines = [
        orjson.dumps({"type": "track", "userId": "u1", "event": "Fine", "writeKey": "k1"}),
        orjson.dumps(dict(big, writeKey="k1")),
        orjson.dumps({"type": "track", "userId": "u1", "event": "?"}),
    ]
    report = replay(io.BytesIO(b"\n".join(lines)), target.url)
    assert (report.calls, report.accepted, report.rejected) == (3, 1, 2)
    assert not report.ok
    assert any("over the 32768-byte limit" in reason for reason in report.reasons)
    assert "no write key" in report.summary()


def test_replay_retries_503_and_429_then_delivers() -> None:
    server, flaky = flaky_server(failures=2, status=503)
    with server:
        lines = b"\n".join(
            orjson.dumps({"type": "track", "userId": "u1", "event": "E", "writeKey": "k1"}) for _ in range(3)
        )
        notes: list[str] = []
        report = replay(io.BytesIO(lines), server.url, policy=FAST, notify=notes.append)
        assert report.ok and report.accepted == 3 and report.requests == 1
        assert flaky.refusals == 2 and len(server.calls()) == 3
        assert len(notes) == 2  # each retry told as it happens
        assert notes[0].startswith("mockpipe: attempt 1 to send 3 call(s) to ")
        assert "failed: HTTP 503: try again later; retrying in 0.0 s" in notes[0]
        flaky.failures, flaky.status, flaky.retry_after = 1, 429, "0.2"
        report = replay(io.BytesIO(lines), server.url, policy=FAST)
        assert report.ok
        assert flaky.arrivals[-1] - flaky.arrivals[-2] >= 0.2  # Retry-After honoured


def test_replay_gives_up_and_reports_the_reason() -> None:
    server, _ = flaky_server(failures=100, status=503)
    with server:
        line = orjson.dumps({"type": "track", "userId": "u1", "event": "E", "writeKey": "k1"})
        report = replay(io.BytesIO(line), server.url, policy=FAST)
    assert report.rejected == 1
    assert "HTTP 503: try again later (gave up after 5 attempts)" in report.summary()


def test_replay_rate_paces_the_calls(target: MockPipeServer) -> None:
    lines = b"\n".join(
        orjson.dumps({"type": "track", "userId": "u1", "event": "E", "writeKey": "k1"}) for _ in range(30)
    )
    started = time.monotonic()
    report = replay(io.BytesIO(lines), target.url, rate=20)
    assert report.ok and report.requests == 2  # batches of at most 20, the second one a second later
    assert time.monotonic() - started >= 0.5
    with pytest.raises(ValueError, match="positive"):
        replay(io.BytesIO(lines), target.url, rate=0)


def test_replay_command(
    tmp_path: Path, target: MockPipeServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "mine.jsonl").write_bytes(
        orjson.dumps({"type": "track", "userId": "u1", "event": "E"}) + b"\n"
    )
    assert main(["replay", "mine.jsonl", "--to", target.url + "/v1/batch", "--write-key", "k9"]) == 0
    assert "1 accepted, 0 rejected" in capsys.readouterr().err
    assert target.calls()[0].write_key == "k9"

    with MockPipeServer(strict=True, write_keys={"good"}) as strict:
        assert main(["replay", "mine.jsonl", "--to", strict.url, "--write-key", "bad", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "0 accepted, 1 rejected" in err and "HTTP 401" in err
    assert main(["replay", "missing.jsonl", "--to", target.url]) == 1
    assert main(["replay", "mine.jsonl", "--to", "ftp://example.com"]) == 2


@pytest.mark.parametrize("terse", [False, True], ids=["violation-paths", "meta-errors-only"])
def test_replay_to_a_strict_endpoint_rejects_only_the_invalid_calls(terse: bool) -> None:
    # A strict destination refuses a whole batch for one bad call: the others must still get through.
    server, wrapper = terse_server(strict=True) if terse else (MockPipeServer(strict=True), None)
    good = [
        {"type": "track", "userId": "u1", "event": f"E{n}", "messageId": f"m{n}", "writeKey": "k1"} for n in range(100)
    ]
    lines = [orjson.dumps(call) for call in good]
    lines.insert(3, orjson.dumps({"type": "track", "event": "Nobody", "writeKey": "k1"}))  # line 4
    lines.insert(9, orjson.dumps({"type": "identify", "userId": "u2", "traits": "x", "writeKey": "k1"}))  # line 10
    with server:
        report = replay(io.BytesIO(b"\n".join(lines)), server.url, policy=FAST)
        assert (report.calls, report.accepted, report.rejected) == (102, 100, 2), report.summary()
        assert sorted(call.message_id for call in server.calls(accepted=True)) == sorted(c["messageId"] for c in good)
        if wrapper is None:  # the answer named the calls at fault: the rest went again at once
            assert report.requests == 2
        else:  # found by halving the batch: a few dozen requests, not one per call
            assert len(wrapper.bodies) == report.requests <= 30
    summary = report.summary()
    assert "HTTP 400: track call has neither userId nor anonymousId (nor groupId) (line 4)" in summary
    assert "HTTP 400: traits must be an object, got a string (line 10)" in summary


def test_replay_fails_fast_when_nothing_listens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with MockPipeServer() as server:
        url = server.url  # a port nothing listens on any more: connections are refused
    recording = tmp_path / "calls.jsonl"
    recording.write_bytes(
        b"\n".join(orjson.dumps({"type": "track", "userId": "u1", "event": "E", "writeKey": f"k{n}"}) for n in range(3))
    )  # three keys: three batches
    started = time.monotonic()
    assert main(["replay", str(recording), "--to", url, "--no-progress"]) == 1
    assert time.monotonic() - started < 4
    err = capsys.readouterr().err
    assert err.count("Connection refused; retrying in") == 3  # told while it happens, for the first batch only
    # It said "0 accepted, 3 rejected": they were never sent, and nothing refused them.
    [summary] = [line for line in err.splitlines() if not line.startswith("mockpipe: attempt")]
    assert summary.startswith(f"nothing replayed to {url}/v1/batch: 3 call(s) not sent, connection refused")
    assert "rejected" not in summary


def test_replay_to_a_refused_port_in_a_log_says_what_was_not_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with MockPipeServer() as server:
        url = server.url
    recording = tmp_path / "calls.jsonl"
    lines = [{"type": "track", "userId": f"u{n}", "event": "E", "writeKey": "k1"} for n in range(7)]
    recording.write_bytes(b"\n".join(orjson.dumps(line) for line in [*lines, {"type": "track", "event": "E"}]))
    assert main(["replay", str(recording), "--to", url]) == 1  # stderr is no terminal: no progress bar
    err = capsys.readouterr().err.splitlines()
    notes = [line for line in err if line.startswith("mockpipe: attempt")]
    assert len(notes) == 3 and len(err) == len(notes) + 2  # the summary: a line, and the rejected line
    assert err[-2].startswith(f"nothing replayed to {url}/v1/batch: 7 call(s) not sent, connection refused")
    assert err[-2].endswith("; 1 rejected")
    assert err[-1] == "  1 rejected: no write key (pass --write-key) (line 8)"
    assert not any("100%" in line or "7 rejected" in line for line in err)


class _Failing:
    """An endpoint whose every POST raises `error`."""

    def __init__(self, error: OSError) -> None:
        self.error = error
        self.posts = 0

    def post(self, body: bytes, write_key: str) -> None:
        self.posts += 1
        raise self.error


@pytest.mark.parametrize(
    ("error", "policy", "posts", "unreachable"),
    [
        (ConnectionRefusedError(111, "Connection refused"), RetryPolicy(attempts=8, base=0.01), 4, True),
        (socket.gaierror(-2, "Name or service not known"), RetryPolicy(attempts=8, base=0.01), 4, True),
        (TimeoutError("timed out"), RetryPolicy(attempts=8, base=0.01), 8, False),  # slow is not absent
        (ConnectionRefusedError(111, "Connection refused"), DEFAULT_POLICY, 10, False),  # forward rides out restarts
    ],
)
def test_a_refused_connection_is_given_up_quickly_other_network_errors_are_not(
    error: OSError, policy: RetryPolicy, posts: int, unreachable: bool
) -> None:
    waits: list[float] = []
    endpoint = _Failing(error)
    outcome = send(endpoint, b"{}", "k1", policy=policy, sleep=waits.append)  # type: ignore[arg-type]
    assert (endpoint.posts, outcome.unreachable, outcome.accepted) == (posts, unreachable, False)
    assert f"(gave up after {posts} attempts)" in str(outcome.reason)
    if unreachable:
        assert waits == [0.01, 0.02, 0.04]
        assert sum(RetryPolicy().refused_delay(n) for n in range(1, 4)) < 2  # the default: under 2 s in all
