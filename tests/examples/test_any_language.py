"""The "Any language" page shows its examples as they are in tests/examples/, and the shell one runs:
`mockpipe run -- sh checkout.sh` passes, asserting with curl through /mockpipe/expect and /mockpipe/settle."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PAGE = ROOT / "docs" / "any-language.md"
SCRIPT = ROOT / "tests" / "examples" / "shell" / "checkout.sh"
_SHOWN = re.compile(r"^```(?:js|sh)\n(?://|#) (tests/examples/[\w/.]+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_page_shows_the_examples_as_they_are() -> None:
    shown = _SHOWN.findall(PAGE.read_text())
    assert {path for path, _ in shown} >= {
        "tests/examples/node/app.js",
        "tests/examples/node/mockpipe.js",
        "tests/examples/node/passing/orders.test.js",
        "tests/examples/shell/checkout.sh",
    }
    for path, code in shown:
        assert code == (ROOT / path).read_text(), f"docs/any-language.md shows an old {path}"


def test_the_curl_script_passes_under_mockpipe_run() -> None:
    if shutil.which("curl") is None or shutil.which("sh") is None:
        pytest.skip("curl or sh is not on PATH")
    done = subprocess.run(
        [sys.executable, "-m", "mockpipe", "run", "--", "sh", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checkout: ok" in done.stdout
    assert "1 call(s): 1 track" in done.stderr


def test_the_curl_script_fails_with_the_explanation(tmp_path: Path) -> None:
    if shutil.which("curl") is None or shutil.which("sh") is None:
        pytest.skip("curl or sh is not on PATH")
    broken = tmp_path / "checkout.sh"
    broken.write_text(SCRIPT.read_text().replace('"revenue": 99.5}}}', '"revenue": 10}}}'))
    done = subprocess.run(
        [sys.executable, "-m", "mockpipe", "run", "--", "sh", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "expectation failed (409)" in done.stderr
    assert "properties.revenue: expected 10, got 99.5" in done.stderr
