"""`mockpipe run -- COMMAND`: a command against a fresh emulator, its exit status, summary and reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from xml.etree import ElementTree

import orjson
import pytest

from mockpipe.cli import main
from mockpipe.cli.run import environment

# A client in any language, played by Python: it sends the calls given as JSON on argv[1] to the
# emulator named by the environment, with the write key it was given, then exits with argv[2].
CLIENT = textwrap.dedent(
    """
    import base64, json, os, sys, urllib.request
    url, key = os.environ["MOCKPIPE_URL"], os.environ["MOCKPIPE_WRITE_KEY"]
    auth = "Basic " + base64.b64encode((key + ":").encode()).decode()
    for path, body in json.loads(sys.argv[1]):
        request = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                         headers={"Authorization": auth, "Content-Type": "application/json"})
        urllib.request.urlopen(request).read()
    sys.exit(int(sys.argv[2]))
    """
)
VALID = [["/v1/track", {"userId": "u1", "event": "Order Completed", "properties": {"revenue": 9.5}}]]
INVALID = [["/v1/track", {"userId": "u1"}], ["/v1/identify", {"userId": "u1", "traits": {"plan": "pro"}}]]


def run(*options: str, calls: object = VALID, status: int = 0) -> int:
    return main(["run", *options, "--", sys.executable, "-c", CLIENT, orjson.dumps(calls).decode(), str(status)])


def test_a_passing_command_with_valid_calls_exits_0_and_sums_them_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert run() == 0
    err = capsys.readouterr().err
    assert "1 call(s): 1 track" in err
    assert "track 'Order Completed': 1" in err
    assert "no violations" in err


def test_the_commands_own_failure_is_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(status=3) == 3
    assert run(calls=INVALID, status=4) == 4  # the command's failure wins over the calls'


def test_a_passing_command_whose_calls_break_the_spec_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(calls=INVALID) == 1
    err = capsys.readouterr().err
    assert "error track.event.required: 1" in err
    assert "--allow-invalid" in err
    assert run("--allow-invalid", calls=INVALID) == 0


def test_junit_report_names_each_violation_code(tmp_path: Path) -> None:
    report = tmp_path / "reports" / "mockpipe.xml"
    assert run("--junit-xml", str(report), calls=INVALID) == 1
    root = ElementTree.parse(report).getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert "track.event.required" in cases
    failure = cases["track.event.required"].find("failure")
    assert failure is not None
    assert "1 call(s) break track.event.required" in (failure.get("message") or "")
    assert "track" in (failure.text or "")
    assert root.find("testsuite").get("failures") == "1"  # type: ignore[union-attr]
    assert cases["calls received"].find("failure") is None


def test_junit_report_of_a_clean_run_has_one_passing_case(tmp_path: Path) -> None:
    report = tmp_path / "clean.xml"
    assert run("--junit-xml", str(report)) == 0
    root = ElementTree.parse(report).getroot()
    assert [case.get("name") for case in root.iter("testcase")] == ["calls received"]
    assert root.get("failures") == "0"


def test_record_writes_the_journal_as_json_lines(tmp_path: Path) -> None:
    assert run("--record", str(tmp_path / "out"), calls=VALID * 2) == 0
    lines = (tmp_path / "out" / "mockpipe-run.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["payload"]["event"] for line in lines] == ["Order Completed"] * 2


def test_github_step_summary_gets_a_markdown_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run(calls=INVALID) == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n### mockpipe run")
    assert "| error | `track.event.required` | 1 |" in text


def test_the_command_sees_the_emulator_under_the_usual_names() -> None:
    env = environment("http://127.0.0.1:1234", "wk_1", base={"PATH": "/bin"})
    assert env["PATH"] == "/bin"
    assert env["MOCKPIPE_URL"] == env["SEGMENT_HOST"] == env["CUSTOMERIO_CDP_HOST"] == "http://127.0.0.1:1234"
    assert env["MOCKPIPE_WRITE_KEY"] == env["SEGMENT_WRITE_KEY"] == env["RUDDERSTACK_WRITE_KEY"] == "wk_1"
    assert "MOCKPIPE_PORT" not in env  # the pytest plugin would bind that port itself


def test_no_command_or_a_missing_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "no command given" in capsys.readouterr().err
    assert main(["run", "--", "/nonexistent/mockpipe-test-command"]) == 127


def test_signals_reach_the_command_and_the_server_stops(tmp_path: Path) -> None:
    marker = tmp_path / "got-term"
    child = textwrap.dedent(
        f"""
        import signal, sys, time
        def on_term(signum, frame):
            open({str(marker)!r}, "w").write("term")
            sys.exit(5)
        signal.signal(signal.SIGTERM, on_term)
        print("ready", flush=True)
        time.sleep(30)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "mockpipe", "run", "--", sys.executable, "-c", child],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 5
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "term"
