"""The Node example suite (tests/examples/node/), a real non-Python suite: an app using
`@customerio/cdp-analytics-node`, tested with `node:test` through `POST /mockpipe/expect` and
`GET /mockpipe/settle`, run by `mockpipe run -- node --test`. Skipped, with the reason, where Node or
the SDK is missing (`.ci/install-sdks.sh` installs it, as for the SDK suite)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.sdk_scenario import NODE_DIR, node_missing

EXAMPLE = Path(__file__).parent / "node"
SDK = "customerio-cdp-analytics-node"


def mockpipe_run(tmp_path: Path, suite: str) -> tuple[subprocess.CompletedProcess[str], ET.Element]:
    """`mockpipe run --junit-xml F -- node --test <suite>`: its result and the parsed report."""
    reason = node_missing(SDK)
    if reason:
        pytest.skip(reason)
    report = tmp_path / "junit.xml"
    # The example requires the SDK by name: Node finds it where the SDK suite installed it.
    env = {**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")}
    command = [sys.executable, "-m", "mockpipe", "run", "--junit-xml", str(report), "--", "node", "--test"]
    done = subprocess.run(
        [*command, str(EXAMPLE / suite)], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert report.exists(), done.stderr
    return done, ET.parse(report).getroot()


def failed_cases(root: ET.Element) -> dict[str, str]:
    return {
        case.get("name", ""): case.get("classname", "")
        for case in root.iter("testcase")
        if case.find("failure") is not None
    }


def test_the_example_suite_passes(tmp_path: Path) -> None:
    done, root = mockpipe_run(tmp_path, "passing")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# pass 4" in done.stdout and "# fail 0" in done.stdout
    assert "mockpipe run: no violations" in done.stderr
    assert failed_cases(root) == {}


def test_a_suite_whose_calls_break_the_spec_exits_1_and_the_report_names_the_rules(tmp_path: Path) -> None:
    done, root = mockpipe_run(tmp_path, "breaking")
    assert "# pass 2" in done.stdout and "# fail 0" in done.stdout  # node's tests pass ...
    assert done.returncode == 1, done.stderr  # ... and mockpipe run fails the run
    assert failed_cases(root) == {"channel.enum": "mockpipe.violations", "objectTypeId.format": "mockpipe.violations"}
    assert "the command passed, but 2 error(s) arrived" in done.stderr


def test_a_failing_node_test_fails_the_run_with_the_explanation(tmp_path: Path) -> None:
    done, root = mockpipe_run(tmp_path, "failing")
    assert done.returncode == 1
    assert "# pass 1" in done.stdout and "# fail 1" in done.stdout
    assert "expected a track call with event='Order Refunded', userId='u-1'" in done.stdout
    assert "event: expected 'Order Refunded', got 'Order Completed'" in done.stdout
    assert failed_cases(root) == {}  # no call broke the spec: node's status is the run's
