"""`mockpipe serve` as a real process: prints its URL, serves, stops cleanly on SIGTERM and Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from mockpipe.cli import build_parser, main


def start(*options: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockpipe", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if found is None:
        process.kill()
        pytest.fail(f"no URL in {line!r}; stderr: {process.stderr.read() if process.stderr else ''}")
    return process, found.group(1)


def post(url: str, body: bytes, **headers: str) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_serves_and_stops(stop_signal: signal.Signals) -> None:
    process, url = start("--write-key", "k1", "--strict")
    try:
        assert post(f"{url}/v1/track", b'{"userId":"u1","event":"E"}', Authorization="Bearer k1") == 200
        assert post(f"{url}/v1/track", b'{"userId":"u1"}', Authorization="Bearer k1") == 400  # --strict
        assert post(f"{url}/v1/track", b'{"userId":"u1","event":"E"}', Authorization="Bearer k2") == 401
        with urllib.request.urlopen(f"{url}/mockpipe/health", timeout=10) as response:
            assert b'"strict":true' in response.read()
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped after 2 call(s)" in out


def test_region_option() -> None:
    process, url = start("--region", "eu")
    try:
        with urllib.request.urlopen(f"{url}/mockpipe/health", timeout=10) as response:
            assert b'"region":"eu"' in response.read()
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_serve_defaults_are_safe() -> None:
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.strict is False and args.region == "us" and args.write_key == []


def test_bad_options_exit_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--region", "mars"])
    assert exited.value.code == 2
    assert main(["serve", "--port", "0", "--max-calls", "0"]) == 2
    assert "max_calls" in capsys.readouterr().err


def test_port_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "70000"])
    assert exited.value.code == 2 and "out of range" in capsys.readouterr().err
