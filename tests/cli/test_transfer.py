"""`mockpipe replay`'s progress (a rich bar on a terminal, nothing in a log); `export` when the reader leaves."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import TYPE_CHECKING

import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli import main
from mockpipe.relay.replay import Progress, ReplayReport, replay
from tests.cli.terminal import plain, run_on_terminal

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def target() -> Iterator[MockPipeServer]:
    with MockPipeServer() as server:
        yield server


def _recording(path: Path, count: int) -> Path:
    path.write_bytes(
        b"".join(
            orjson.dumps({"type": "track", "userId": f"u{n}", "event": "Replayed", "writeKey": "k1"}) + b"\n"
            for n in range(count)
        )
    )
    return path


def test_progress_on_a_terminal_is_a_bar_with_the_counts(tmp_path: Path, target: MockPipeServer) -> None:
    path = _recording(tmp_path / "calls.jsonl", 500)
    stream = io.StringIO()
    progress = Progress(path.stat().st_size, stream=stream, interactive=True)
    with path.open("rb") as source:
        report = replay(source, target.url, progress=progress)
    assert report.accepted == 500
    shown = stream.getvalue()
    assert "\x1b[" in shown and "━" in shown  # drawn in place, with rich's bar
    last = plain(shown).strip().splitlines()[-1]
    assert "100%" in last and "500 calls sent, 500 accepted, 0 rejected" in last


def test_progress_notes_go_above_the_bar_and_close_ends_it() -> None:
    stream = io.StringIO()
    progress = Progress(1000, stream=stream, interactive=True)
    report = ReplayReport(url="http://127.0.0.1:1", calls=3, sent=3, accepted=3)
    progress.update(500, report)
    progress.note("mockpipe: attempt 1 [failed]; retrying")  # brackets: no rich markup read
    progress.close()
    progress.close()  # twice is harmless
    lines = [line.strip() for line in plain(stream.getvalue()).splitlines() if line.strip()]
    assert "mockpipe: attempt 1 [failed]; retrying" in lines
    assert "50%" in lines[-1] and "3 calls sent" in lines[-1]


def test_progress_off_a_terminal_prints_nothing_but_the_notes() -> None:
    stream = io.StringIO()
    progress = Progress(1000, stream=stream)  # a StringIO is no terminal
    report = ReplayReport(url="http://127.0.0.1:1")
    for done in range(0, 1001, 50):
        progress.update(done, report)
    progress.update(1000, report, final=True)
    progress.note("mockpipe: attempt 1 failed; retrying")
    assert stream.getvalue() == "mockpipe: attempt 1 failed; retrying\n"


def test_replay_in_a_log_prints_the_summary_only(
    tmp_path: Path, target: MockPipeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _recording(tmp_path / "calls.jsonl", 300)
    assert main(["replay", str(path), "--to", target.url]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("replayed 300 call(s) to ") and "300 accepted, 0 rejected" in err[0]


def test_replay_on_a_terminal_draws_the_bar_then_the_summary(tmp_path: Path, target: MockPipeServer) -> None:
    path = _recording(tmp_path / "calls.jsonl", 200)
    status, shown = run_on_terminal("replay", str(path), "--to", target.url, stream="stderr")
    assert status == 0, shown
    lines = [line.strip() for line in plain(shown).splitlines() if line.strip()]
    assert "100%" in lines[-2] and "200 calls sent, 200 accepted" in lines[-2]
    assert lines[-1].startswith("replayed 200 call(s)")
    assert "\x1b[?25l" in shown and shown.rfind("\x1b[?25h") > shown.rfind("\x1b[?25l")  # the cursor comes back

    status, shown = run_on_terminal("replay", str(path), "--to", target.url, "--no-progress", stream="stderr")
    assert status == 0 and plain(shown).strip().startswith("replayed 200 call(s)")


def test_export_ends_quietly_when_the_reader_leaves(tmp_path: Path, target: MockPipeServer) -> None:
    path = _recording(tmp_path / "calls.jsonl", 3000)
    assert main(["replay", str(path), "--to", target.url, "--no-progress"]) == 0
    for command in (["export"], ["calls"], ["calls", "--json"]):
        with subprocess.Popen(
            [sys.executable, "-m", "mockpipe", *command, "--url", target.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as exporter:
            assert exporter.stdout is not None and exporter.stderr is not None
            assert exporter.stdout.readline()  # `| head -1`: one line, then the reader is gone
            exporter.stdout.close()
            err = exporter.stderr.read()
            assert exporter.wait(30) == 0, (command, err)
        assert b"Traceback" not in err and b"Error" not in err, (command, err)
