"""The pytest fixture's cost for `mockpipe bench`: per test, and once for the first test of a session,
measured in pytest subprocesses running generated tests with and without the `mockpipe` fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FixtureOverhead:
    """The `mockpipe` fixture's cost: per test, and once for the first test (the session's server)."""

    tests: int
    with_fixture_s: float | None  # setup + call + teardown of the tests using `mockpipe`, first one aside
    without_fixture_s: float | None
    first_test_ms: float | None = None  # the first test using it, minus a first test without it
    skipped: str | None = None  # why it could not be measured

    @property
    def per_test_ms(self) -> float | None:
        if self.with_fixture_s is None or self.without_fixture_s is None:
            return None
        return (self.with_fixture_s - self.without_fixture_s) / max(1, self.tests - 1) * 1000


FIXTURE_MISSING = "fixture 'mockpipe' not found"

# Sums each test file's setup, call and teardown times (what a fixture adds to every test), the
# first test of each file apart (one-time costs: imports, the session's server); pytest's own
# start-up and reporting are the same for both files and left out.
_TIMING_PLUGIN = """
import json
import os

_seconds = {}


def pytest_runtest_logreport(report):
    name, _, test = report.nodeid.partition("::")
    key = name + (":first" if test == "test_0" else "")
    _seconds[key] = _seconds.get(key, 0.0) + report.duration


def pytest_sessionfinish(session):
    with open(os.environ["MOCKPIPE_BENCH_TIMES"], "w") as out:
        json.dump(_seconds, out)
"""


def fixture_overhead(tests: int = 1000, *, repeats: int = 2, conftest: str = "") -> FixtureOverhead:
    """Time of `tests` tests using the `mockpipe` fixture against as many tests without it.

    One pytest subprocess per repeat runs both generated files in a scratch folder (its own empty
    config, `conftest` as its conftest.py); a small plugin sums each file's setup, call and teardown
    times. Skipped, with the reason, when the fixture is not available or the run fails.
    """
    if tests < 2:
        raise ValueError("fixture_overhead needs at least 2 tests: the first one is counted apart")
    with tempfile.TemporaryDirectory(prefix="mockpipe-bench-fixture-") as scratch:
        folder = Path(scratch)
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / "conftest.py").write_text(conftest)
        (folder / "mockpipe_bench_timing.py").write_text(_TIMING_PLUGIN)
        (folder / "test_with.py").write_text(
            "".join(f"def test_{n}(mockpipe):\n    assert mockpipe is not None\n\n\n" for n in range(tests))
        )
        (folder / "test_without.py").write_text(
            "".join(f"def test_{n}():\n    assert {n} >= 0\n\n\n" for n in range(tests))
        )
        times = folder / "times.json"
        with_times: list[float] = []
        without_times: list[float] = []
        first: list[float] = []
        for _ in range(repeats):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-x",
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "mockpipe_bench_timing",
                    "test_with.py",
                    "test_without.py",
                ],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                env={
                    **os.environ,
                    "MOCKPIPE_BENCH_TIMES": str(times),
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])),
                },
            )
            if done.returncode != 0:
                output = done.stdout + done.stderr
                reason = (
                    "the pytest plugin has no `mockpipe` fixture yet"
                    if FIXTURE_MISSING in output
                    else f"the pytest run failed ({done.returncode}): {output.strip()[-300:]}"
                )
                return FixtureOverhead(tests, None, None, None, reason)
            seconds = json.loads(times.read_text())
            with_times.append(seconds.get("test_with.py", 0.0))
            without_times.append(seconds.get("test_without.py", 0.0))
            first.append(seconds["test_with.py:first"] - seconds["test_without.py:first"])
    return FixtureOverhead(tests, min(with_times), min(without_times), min(first) * 1000)
