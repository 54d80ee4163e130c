"""`mockpipe bench`: the quick run produces every figure, sane; the targets themselves are not asserted."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from mockpipe.bench import runner as bench
from mockpipe.bench.http_runs import HttpRun
from mockpipe.bench.options import BenchOptions
from mockpipe.bench.report import BenchReport
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.bench.targets import TARGETS
from mockpipe.cli import main

FIGURES = (
    "single calls, fresh ids: mockpipe req/s ÷ bare Starlette",
    "single calls, fresh ids: mockpipe p99 ÷ p50",
    "batches, fresh ids: mockpipe events/s ÷ naive recorder",
    "single calls, resends: mockpipe req/s ÷ bare Starlette",
    "single calls, resends: mockpipe p99 ÷ p50",
    "batches, resends: mockpipe events/s ÷ naive recorder",
    "journal memory ÷ JSON bytes kept (single calls)",
    "journal memory ÷ JSON bytes kept (batch items)",
    "journal memory ÷ JSON bytes kept (batch items, every one a resend)",
    "--max-calls 200: peak over refills 9-16 vs 1-8",
    "MockPipeServer start (median)",
    "MockPipeServer stop (median)",
    "`mockpipe` fixture overhead per test",
    "mockpipe validate start",
    "wait_for return after the call lands (p99)",
    "validator alone (check_call), valid calls/s",
    "ingest with a 50-event plan ÷ without (single calls)",
    "ingest with a 50-event plan ÷ without (batches)",
    "first GET /mockpipe/calls?limit=100 after a burst of 10,000 events",
    "first GET /mockpipe/people?limit=100 after a burst of 10,000 events",
)


def test_quick_run_reports_every_figure_sane() -> None:
    """`mockpipe bench --quick --json` (a few seconds), run once: one test, so that xdist runs it once."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["bench", "--quick", "--json"]) == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    check_every_server_runs_every_scenario_with_sane_figures(report)
    check_ratios_of_mockpipe_to_both_baselines_are_computed(report)
    check_in_process_figures_are_present_and_sane(report)
    check_every_target_is_reported_with_a_status(report)


def check_every_server_runs_every_scenario_with_sane_figures(quick: dict[str, Any]) -> None:
    runs = {(run["scenario"], run["target"]): run for run in quick["http"]}
    assert set(runs) == {(scenario, target) for scenario in SCENARIOS for target in TARGETS}
    for (scenario, _), run in runs.items():
        assert run["errors"] == 0
        assert run["requests"] > 0
        assert run["requests_per_s"] > 0
        assert run["events_per_s"] == pytest.approx(run["requests_per_s"] * SCENARIOS[scenario].events)
        assert 0 < run["p50_ms"] <= run["p99_ms"]
        assert run["rss_before_mb"] > 0 and run["rss_after_mb"] > 0
        # The kernel counts a process's CPU in 10 ms ticks: a quick turn on a loaded machine may see none.
        assert run["cpu_us_per_request"] >= 0
        assert run["driver"].startswith("built-in")  # --quick never waits for wrk's whole seconds


def check_ratios_of_mockpipe_to_both_baselines_are_computed(quick: dict[str, Any]) -> None:
    runs = {(run["scenario"], run["target"]): run for run in quick["http"]}
    assert set(quick["ratios"]) == {f"{s}:mockpipe/{b}" for s in SCENARIOS for b in ("bare", "naive")}
    for key, ratio in quick["ratios"].items():
        scenario, _, base = key.replace(":mockpipe/", " ").partition(" ")
        expected = runs[scenario, "mockpipe"]["requests_per_s"] / runs[scenario, base]["requests_per_s"]
        assert ratio == pytest.approx(expected)
        cpu = runs[scenario, base]["cpu_us_per_request"] / runs[scenario, "mockpipe"]["cpu_us_per_request"]
        assert quick["cpu_ratios"][key] == pytest.approx(cpu)


def check_in_process_figures_are_present_and_sane(quick: dict[str, Any]) -> None:
    assert 0 < quick["start_stop"]["start_ms"] < 10_000 and 0 < quick["start_stop"]["stop_ms"] < 10_000
    assert quick["wait"]["samples"] == 10
    # Measured from the journal's listener, which may run just after the waiter wakes: a little below 0 is fine.
    assert -1000 < quick["wait"]["after_landing_p50_ms"] < 1000
    assert -1000 < quick["wait"]["after_200_p99_ms"] < 1000
    journal = quick["journal"]
    assert all(journal[name] > 0 for name in ("single_fresh_per_s", "single_resend_per_s", "batch_fresh_per_s"))
    assert journal["batch_ratio"] == pytest.approx(journal["batch_resend_per_s"] / journal["batch_fresh_per_s"])
    assert quick["skipped"] == {}  # --quick asks for no peer
    rates = quick["rates"]
    assert all(
        rates[name] > 0
        for name in ("validate_per_s", "check_call_per_s", "ingest_single_per_s", "ingest_batch_events_per_s")
    )
    for name in ("memory_single", "memory_batch", "memory_resends"):
        memory = quick[name]
        assert memory["calls"] == 1000
        # The journal keeps at least the JSON bytes themselves.
        assert memory["growth_bytes"] >= memory["json_bytes"] > 0
        assert memory["ratio"] >= 1
        assert memory["bounded_fill_bytes"] > 0
    fixture = quick["fixture"]
    assert (fixture["per_test_ms"] is None) == (fixture["skipped"] is not None)
    startup = quick["startup"]
    assert startup["runs"] == 3  # fewer under --quick
    # Any Python command costs the interpreter's start-up; mockpipe validate costs more, never a minute.
    assert 0 < startup["python_s"] < startup["validate_s"] < 60
    assert startup["own_s"] == pytest.approx(startup["validate_s"] - startup["python_s"])
    plan = quick["plan"]
    assert plan["plan_events"] == 50 and plan["compile_ms"] > 0
    assert all(plan[name] > 0 for name in ("single_per_s", "single_with_plan_per_s", "batch_events_per_s"))
    assert plan["single_ratio"] == pytest.approx(plan["single_with_plan_per_s"] / plan["single_per_s"])
    assert plan["batch_ratio"] == pytest.approx(plan["batch_events_with_plan_per_s"] / plan["batch_events_per_s"])
    # The reads after a burst (10,000 events under --quick) saw every call sent, and the people they name.
    burst = quick["burst"]
    assert (burst["calls"]["total"], burst["calls"]["count"], burst["calls"]["requests"]) == (10_000, 100, 100)
    assert (burst["people"]["total"], burst["people"]["count"]) == (100, 100)
    assert burst["calls"]["complete"] and burst["people"]["complete"]
    assert all(burst[name]["read_s"] > 0 and burst[name]["events_per_s"] > 0 for name in ("calls", "people"))


def check_every_target_is_reported_with_a_status(quick: dict[str, Any]) -> None:
    checks = {check["figure"]: check for check in quick["checks"]}
    assert tuple(checks) == FIGURES
    for check in checks.values():
        assert check["status"] in ("met", "NOT MET", "skipped")
        assert check["measured"] and check["target"]
    assert checks["mockpipe validate start"]["target"] == "≤ 0.2 s"
    assert checks["mockpipe validate start"]["status"] in ("met", "NOT MET")  # measured, whatever the machine
    assert (checks["`mockpipe` fixture overhead per test"]["status"] == "skipped") == (
        quick["fixture"]["skipped"] is not None
    )


def test_the_table_shows_each_run_ratio_and_target() -> None:
    report = BenchReport(
        BenchOptions.quick(),
        "builtin",
        http=[
            HttpRun(
                scenario,
                target,
                rate,
                rate * SCENARIOS[scenario].events,
                2.0,
                4.0,
                30.0,
                40.0,
                250.0,
                100,
                0,
                "built-in (1 process)",
            )
            for scenario in SCENARIOS
            for target, rate in zip(TARGETS, (4000.0, 3000.0, 3500.0), strict=True)
        ],
    )
    table = " ".join(bench.format_report(report).split())
    assert table.count("(c) mockpipe") == 4  # fresh ids and resends, single calls and batches
    assert table.count("| (c) ÷ (a) | 0.88x | 0.88x |") == 4  # 3,500 ÷ 4,000
    assert table.count("| (c) ÷ (b) | 1.17x | 1.17x |") == 4  # 3,500 ÷ 3,000
    # Each ratio a target concerns is marked in the table: single calls against bare, batches against naive.
    assert table.count("| ≥ 0.85: met |") == 2 and table.count("| ≥ 3: NOT MET |") == 2
    # Same CPU per request everywhere: the CPU-based ratio says 1.00 whatever the rates.
    for traffic in ("fresh ids", "resends"):
        assert (
            f"single calls, {traffic}: mockpipe req/s ÷ bare Starlette | 0.88 (by CPU/req: 1.00) | ≥ 0.85 | met"
            in table
        )
        assert (
            f"batches, {traffic}: mockpipe events/s ÷ naive recorder | 1.17 (by CPU/req: 1.00) | ≥ 3 | NOT MET" in table
        )
