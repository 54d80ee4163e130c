"""The report: each figure against its target, in the table and in the JSON form."""

from __future__ import annotations

from mockpipe.bench.microbench import StartupTime
from mockpipe.bench.options import BenchOptions
from mockpipe.bench.report import STARTUP_TARGET_S, BenchReport
from mockpipe.bench.runner import format_report


def test_the_start_up_of_validate_has_a_check_row_and_a_baseline() -> None:
    slow = BenchReport(BenchOptions.quick(), "builtin", startup=StartupTime(0.41, 0.02, 3))
    (check,) = slow.checks()
    assert (check.figure, check.target, check.status) == ("mockpipe validate start", "≤ 0.2 s", "NOT MET")
    assert check.measured == "0.41 s (python alone: 0.02 s)"
    fast = BenchReport(BenchOptions.quick(), "builtin", startup=StartupTime(STARTUP_TARGET_S, 0.02, 3))
    assert fast.checks()[0].status == "met"

    table = " ".join(format_report(slow).split())
    assert "| mockpipe validate start | 0.41 s (python alone: 0.02 s) | ≤ 0.2 s | NOT MET |" in table
    assert "`python -c pass`, the interpreter alone" in table
    parts = slow.to_dict()["startup"]
    assert (parts["validate_s"], parts["python_s"], parts["runs"]) == (0.41, 0.02, 3)
    assert abs(parts["own_s"] - 0.39) < 1e-9


def test_a_report_without_the_start_up_has_no_such_row() -> None:
    report = BenchReport(BenchOptions.quick(), "builtin")
    assert report.checks() == [] and report.to_dict()["startup"] is None
