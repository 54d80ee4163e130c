"""`mockpipe serve --plan` and `mockpipe run --plan`: a plan refused before anything starts, enforced,
reloaded when the file changes (a broken file keeps the plan in force), and the journal kept across reloads."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from mockpipe.cli import main
from tests.cli.test_run import CLIENT
from tests.plans.conftest import SHOP_PLANS
from tests.support.serve_process import ServeProcess

AUTH = {"Authorization": "Basic " + base64.b64encode(b"k1:").decode()}
PLAN = (
    "mockpipe_plan: 1\ntrack:\n  Signed Up:\n    properties:\n      type: object\n"
    "      properties: {method: {type: string}}\n"
)
REQUIRED = PLAN + "      required: [method]\n"


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockpipe", "serve", "--port", "0", *args], capture_output=True, text=True, timeout=60
    )


def test_an_unreadable_plan_is_one_error_naming_file_place_and_expectation_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "plan.yaml"
    broken.write_text("mockpipe_plan: 1\ntrack:\n  Signed Up: [\n")
    store = tmp_path / "journal.db"
    done = _serve("--plan", str(broken), "--store", str(store))
    assert done.returncode == 2
    assert done.stdout == ""  # nothing started: no "listening on"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(broken) in lines[0] and "line " in lines[0] and "expected" in lines[0]
    assert not store.exists()

    missing = _serve("--plan", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr and "expected" in missing.stderr
    wrong = _serve("--plan", str(SHOP_PLANS["mockpipe"]), "--plan-format", "avo")
    assert wrong.returncode == 2 and "avo" in wrong.stderr


def _verdict(url: str) -> list[str]:
    """The plan codes of a Signed Up call sent without `method`."""
    body = {"userId": "u1", "event": "Signed Up", "properties": {}}
    assert httpx.post(url + "/v1/track", json=body, headers=AUTH).status_code == 200
    calls = httpx.get(url + "/mockpipe/calls").json()["calls"]
    return [v["code"] for v in calls[-1]["violations"]]


def _eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    later = before + 2 * 10**9  # a change the mtime shows whatever the clock's resolution
    os.utime(path, ns=(later, later))


def test_serve_enforces_the_plan_and_reloads_it_when_the_file_changes(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    with ServeProcess("--plan", str(plan)) as served:
        assert _verdict(served.url) == []
        got = httpx.get(served.url + "/mockpipe/plan").json()
        assert got["source"]["path"] == str(plan) and got["plan"]["track"]["Signed Up"]
        _rewrite(plan, REQUIRED)
        assert _eventually(lambda: _verdict(served.url) == ["plan.property.required"])
        _rewrite(plan, "mockpipe_plan: 1\ntrack: [\n")  # broken: the plan in force stays
        time.sleep(1.5)
        assert _verdict(served.url) == ["plan.property.required"]
        _rewrite(plan, PLAN)
        assert _eventually(lambda: _verdict(served.url) == [])
        calls = httpx.get(served.url + "/mockpipe/calls").json()["calls"]
        assert len(calls) >= 4  # the journal went through every reload
        served.process.terminate()
        out, err = served.process.communicate(timeout=30)
    text = err.decode()
    assert "tracking plan reloaded from" in text
    assert "cannot be read" in text and str(plan) in text
    assert f"tracking plan: {plan} (mockpipe)" in out.decode()


def test_serve_announces_the_plan(tmp_path: Path) -> None:
    with ServeProcess("--plan", str(SHOP_PLANS["segment"])) as served:
        served.process.terminate()
        out, _ = served.process.communicate(timeout=30)
    assert "tracking plan: " in out.decode() and "(segment)" in out.decode()


def test_run_takes_the_plan_and_fails_on_its_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(REQUIRED)
    calls = [["/v1/track", {"userId": "u1", "event": "Signed Up", "properties": {}}]]
    status = main(["run", "--plan", str(plan), "--", sys.executable, "-c", CLIENT, orjson.dumps(calls).decode(), "0"])
    err = capsys.readouterr().err
    assert status == 1
    assert "plan.property.required" in err
    assert "plan events covered: 100.0% (1 of 1)" in err

    broken = tmp_path / "broken.yaml"
    broken.write_text("[")
    assert main(["run", "--plan", str(broken), "--", sys.executable, "-c", "pass"]) == 2
    assert str(broken) in capsys.readouterr().err


def test_plan_format_needs_a_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--plan-format", "segment", "--", sys.executable, "-c", "pass"]) == 2
    assert "--plan-format needs --plan" in capsys.readouterr().err
    done = _serve("--plan-format", "segment")
    assert done.returncode == 2 and "--plan-format needs --plan" in done.stderr
