"""`mockpipe calls` and `mockpipe export`, against real servers."""

from __future__ import annotations

import atexit
import base64
import queue
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli import main
from tests.cli.terminal import plain, run_on_terminal

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# One client for the module: a new one per request costs ~30 ms (its TLS context).
HTTP = httpx.Client(timeout=10)
atexit.register(HTTP.close)  # its kept-alive sockets would warn at exit, unclosed


def _post(server: MockPipeServer, path: str, body: object, key: str = "k1") -> None:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    assert HTTP.post(server.url_for(path), content=orjson.dumps(body), headers={"Authorization": auth}).is_success


@pytest.fixture
def server() -> Iterator[MockPipeServer]:
    with MockPipeServer() as running:
        _post(running, "/v1/track", {"userId": "u1", "event": "Order Completed"})
        _post(running, "/v1/page", {"anonymousId": "a1", "name": "Home"}, key="k2")
        _post(running, "/v1/track", {"event": "Nobody"})
        yield running


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()[1:]]


def test_calls_prints_a_table(server: MockPipeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calls", "--url", server.url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["ID", "TIME", "KEY", "TYPE", "EVENT", "/", "NAME", "USER", "STATUS"]
    rows = _rows(out)
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert rows[0][2:] == ["k1", "track", "Order", "Completed", "u1", "valid"]
    assert rows[1][2:] == ["k2", "page", "Home", "anon:a1", "valid"]
    assert rows[2][-2:] == ["invalid:", "identity.required"]


@pytest.mark.parametrize(
    ("options", "ids"),
    [
        (["--write-key", "k2"], ["2"]),
        (["--type", "track"], ["1", "3"]),
        (["--event", "Order Completed"], ["1"]),
        (["--user-id", "u1"], ["1"]),
        (["--anonymous-id", "a1"], ["2"]),
        (["--valid"], ["1", "2"]),
        (["--invalid"], ["3"]),
        (["--limit", "2"], ["2", "3"]),  # the newest, as tail shows
        (["--type", "track", "--limit", "1"], ["3"]),
        (["--limit", "0"], []),
        (["--limit", "9"], ["1", "2", "3"]),
    ],
)
def test_calls_filters(
    server: MockPipeServer, capsys: pytest.CaptureFixture[str], options: list[str], ids: list[str]
) -> None:
    assert main(["calls", "--url", server.url, *options]) == 0
    assert [row[0] for row in _rows(capsys.readouterr().out)] == ids


def test_calls_limit_shows_the_newest_of_many(capsys: pytest.CaptureFixture[str]) -> None:
    with MockPipeServer() as server:
        _post(
            server,
            "/v1/batch",
            {"batch": [{"type": "track", "userId": "u1", "event": "Odd" if n % 2 else "Even"} for n in range(2500)]},
        )
        for options, ids in [
            (["--limit", "3"], [2498, 2499, 2500]),
            (["--limit", "1200"], list(range(1301, 2501))),
            (["--event", "Even", "--limit", "2"], [2497, 2499]),
        ]:
            assert main(["calls", "--url", server.url, "--json", *options]) == 0
            assert [orjson.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == ids, options


def test_calls_json_is_the_api_view(server: MockPipeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calls", "--url", server.url, "--json"]) == 0
    lines = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == HTTP.get(server.url_for("/mockpipe/calls")).json()["calls"]


def test_calls_escapes_what_would_drive_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with MockPipeServer() as server:
        _post(server, "/v1/track", {"userId": "u\x1b]0;owned\x07", "event": "\x1b[2J\x1b[31mred"})
        assert main(["calls", "--url", server.url]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out


def test_calls_on_a_terminal_is_a_rich_table_with_the_same_columns(server: MockPipeServer) -> None:
    status, shown = run_on_terminal("calls", "--url", server.url)
    assert status == 0, shown
    assert "\x1b[1mID" in shown and "\x1b[32mvalid" in shown and "\x1b[31minvalid: identity.required" in shown
    rows = [line.split() for line in plain(shown).splitlines()]
    assert rows[0] == ["ID", "TIME", "KEY", "TYPE", "EVENT", "/", "NAME", "USER", "STATUS"]
    assert rows[1][2:] == ["k1", "track", "Order", "Completed", "u1", "valid"]
    assert rows[2][2:] == ["k2", "page", "Home", "anon:a1", "valid"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]


def test_calls_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    with MockPipeServer() as server:
        url = server.url
    assert main(["calls", "--url", url]) == 1
    assert "cannot reach mockpipe at" in capsys.readouterr().err


def test_calls_follow_shows_a_call_sent_after_it_started(server: MockPipeServer) -> None:
    follower = subprocess.Popen(
        [sys.executable, "-m", "mockpipe", "calls", "--follow", "--url", server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        shown = [follower.stdout.readline() for _ in range(4)]  # the header and the three calls there
        assert shown[0].startswith("ID") and shown[3].split()[0] == "3"
        _post(server, "/v1/screen", {"userId": "u9", "name": "Checkout"})
        row = follower.stdout.readline().split()  # arrives through the long-poll
        assert row[0] == "4" and row[3:6] == ["screen", "Checkout", "u9"]
    finally:
        follower.kill()
        follower.communicate(timeout=10)


class _Follower:
    """`mockpipe calls --follow ...` as a process; its output lines read with a time limit."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockpipe", "calls", "--follow", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def row(self, timeout: float = 15) -> list[str]:
        return self.lines.get(timeout=timeout).split()

    def stop(self) -> str:
        """Ends it; returns what it said on standard error."""
        self.process.kill()
        return self.process.communicate(timeout=10)[1]


def test_calls_follow_notices_a_restarted_server() -> None:
    # An in-memory server started again numbers its calls from 1: they are below the follower's cursor.
    first = MockPipeServer().start()
    follower = None
    try:
        for event in ("A", "B", "C"):
            _post(first, "/v1/track", {"userId": "u1", "event": event})
        follower = _Follower("--url", first.url, "--limit", "2")
        assert follower.row()[0] == "ID"
        assert [follower.row()[:5:4] for _ in range(2)] == [["2", "B"], ["3", "C"]]  # the newest two
        first.stop()
        with MockPipeServer(port=first.port) as second:  # the same port, a new journal
            _post(second, "/v1/track", {"userId": "u2", "event": "After"})
            assert follower.row()[:5:4] == ["1", "After"]
            _post(second, "/v1/track", {"userId": "u2", "event": "Next"})
            assert follower.row()[:5:4] == ["2", "Next"]
    finally:
        if first.is_running():
            first.stop()
        err = follower.stop() if follower is not None else ""
    assert "restarted with a new journal" in err


def test_calls_follow_goes_on_after_a_restart_that_kept_the_calls(tmp_path: Path) -> None:
    store = tmp_path / "journal.db"
    first = MockPipeServer(store=store).start()
    follower = None
    try:
        for event in ("A", "B"):
            _post(first, "/v1/track", {"userId": "u1", "event": event})
        follower = _Follower("--url", first.url)
        assert [follower.row()[:5:4] for _ in range(3)] == [["ID", "EVENT"], ["1", "A"], ["2", "B"]]
        first.stop()
        with MockPipeServer(store=store, port=first.port) as second:  # reloads calls 1 and 2
            _post(second, "/v1/track", {"userId": "u2", "event": "After"})
            assert follower.row()[:5:4] == ["3", "After"]  # not 1 and 2 again
    finally:
        if first.is_running():
            first.stop()
        err = follower.stop() if follower is not None else ""
    assert "restarted and kept its calls; following on after call 2" in err


def test_export_from_a_server_with_filters(server: MockPipeServer, tmp_path: Path) -> None:
    out = tmp_path / "k1.jsonl"
    assert main(["export", "--url", server.url, "--write-key", "k1", "-o", str(out)]) == 0
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [line["id"] for line in lines] == [1, 3]
    assert lines[0] == server.journal.calls()[0].to_dict()


def test_export_from_a_store_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    store = tmp_path / "journal.db"
    with MockPipeServer(store=store) as server:
        _post(server, "/v1/track", {"userId": "u1", "event": "A", "messageId": "m1"})
        _post(server, "/v1/track", {"userId": "u1", "event": "A", "messageId": "m1"})  # a resend
        _post(server, "/v1/track", {"event": "Nobody"})
        expected = [call.to_dict(attempts=server.journal.attempts(call.id)) for call in server.calls()]
        # Readable while the server runs (WAL readers do not block the writer).
        assert main(["export", "--store", str(store), "--invalid"]) == 0
        assert [orjson.loads(line)["id"] for line in capsysbinary.readouterr().out.splitlines()] == [3]
    assert main(["export", "--store", str(store)]) == 0
    captured = capsysbinary.readouterr()
    assert [orjson.loads(line) for line in captured.out.splitlines()] == expected
    assert expected[0]["attempts"] == 2
    assert b"exported 2 call(s)" in captured.err
    assert main(["export", "--store", str(tmp_path / "missing.db")]) == 1


class _Shown(Exception):
    """Ends a `_follow` run in-process once it has shown calls."""


def test_calls_follow_notices_a_restart_between_its_look_and_its_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # The look at the run (`instance`) still saw the old run; the wait then reached the new one, where
    # the cursor's id means nothing. The new run answers at once, and the follower starts it over.
    from mockpipe.cli import calls as calls_command
    from mockpipe.cli.inspection_client import InspectionClient

    with MockPipeServer() as server:
        _post(server, "/v1/track", {"userId": "u1", "event": "Fresh"})
        client = InspectionClient(server.url)
        looks = iter(["the-old-run"])
        real_instance = client.instance
        monkeypatch.setattr(client, "instance", lambda: next(looks, None) or real_instance())
        cursor = calls_command._Cursor()
        cursor.instance, cursor.id, cursor.mark = "the-old-run", 50, (50, "m-old", "2026-12-05T00:00:00.000Z")
        shown: queue.Queue[list[object]] = queue.Queue()

        def show(calls: list[dict[str, object]]) -> None:
            if calls:
                shown.put([call["id"] for call in calls])
                raise _Shown

        def follow() -> None:
            with pytest.raises(_Shown):
                calls_command._follow(client, {}, cursor, show)

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        # Well within the follower's 30 s long-poll, which is what a wait on the old cursor would last.
        assert shown.get(timeout=10) == [1]  # the new run's first call
        thread.join(10)
        client.close()
