"""`mockpipe bench`: the quick run produces every figure, sane; the targets themselves are not asserted."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from typing import Any

import httpx
import orjson
import pytest

from mockpipe.bench import loadgen, runner as bench
from mockpipe.bench.loadgen import SCENARIOS
from mockpipe.bench.targets import TARGETS, TargetProcess
from mockpipe.cli import build_parser, main
from mockpipe.cli.bench import options_from_args
from mockpipe.spec.validator import validate

FIGURES = (
    "single calls: mockpipe req/s ÷ bare Starlette",
    "single calls: mockpipe p99 ÷ p50",
    "batches: mockpipe events/s ÷ naive recorder",
    "journal memory ÷ JSON bytes kept (single calls)",
    "journal memory ÷ JSON bytes kept (batch items)",
    "--max-calls 200: peak over refills 9-16 vs 1-8",
    "MockPipeServer start (median)",
    "MockPipeServer stop (median)",
    "`mockpipe` fixture overhead per test",
    "wait_for return after the call lands (p99)",
    "validator alone (check_call), valid calls/s",
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
        assert run["cpu_us_per_request"] > 0
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
    rates = quick["rates"]
    assert all(
        rates[name] > 0
        for name in ("validate_per_s", "check_call_per_s", "ingest_single_per_s", "ingest_batch_events_per_s")
    )
    for name in ("memory_single", "memory_batch"):
        memory = quick[name]
        assert memory["calls"] == 1000
        # The journal keeps at least the JSON bytes themselves.
        assert memory["growth_bytes"] >= memory["json_bytes"] > 0
        assert memory["ratio"] >= 1
        assert memory["bounded_fill_bytes"] > 0
    fixture = quick["fixture"]
    assert (fixture["per_test_ms"] is None) == (fixture["skipped"] is not None)


def check_every_target_is_reported_with_a_status(quick: dict[str, Any]) -> None:
    checks = {check["figure"]: check for check in quick["checks"]}
    assert tuple(checks) == FIGURES
    for check in checks.values():
        assert check["status"] in ("met", "NOT MET", "skipped")
        assert check["measured"] and check["target"]
    assert (checks["`mockpipe` fixture overhead per test"]["status"] == "skipped") == (
        quick["fixture"]["skipped"] is not None
    )


def test_the_table_shows_each_run_ratio_and_target() -> None:
    report = bench.BenchReport(
        bench.BenchOptions.quick(),
        "builtin",
        http=[
            bench.HttpRun(
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
    assert table.count("(c) mockpipe") == 2
    assert table.count("| (c) ÷ (a) | 0.88x | 0.88x |") == 2  # 3,500 ÷ 4,000
    assert table.count("| (c) ÷ (b) | 1.17x | 1.17x |") == 2  # 3,500 ÷ 3,000
    # Same CPU per request everywhere: the CPU-based ratio says 1.00 whatever the rates.
    assert "single calls: mockpipe req/s ÷ bare Starlette | 0.88 (by CPU/req: 1.00) | ≥ 0.85 | met" in table
    assert "batches: mockpipe events/s ÷ naive recorder | 1.17 (by CPU/req: 1.00) | ≥ 2 | NOT MET" in table


def test_options_from_the_command_line() -> None:
    def options(*argv: str) -> bench.BenchOptions:
        return options_from_args(build_parser().parse_args(["bench", *argv]))

    assert options() == bench.BenchOptions()
    quick = options("--quick", "--connections", "4", "--scenario", "batch")
    assert (quick.duration, quick.connections, quick.scenarios, quick.driver) == (0.25, 4, ("batch",), "builtin")
    assert options("--duration", "3", "--driver", "builtin").duration == 3
    with pytest.raises(bench.BenchError, match="positive"):
        options("--duration", "0")


def test_wrk_is_refused_by_name_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "wrk_path", lambda: None)
    with pytest.raises(bench.BenchError, match="apt-get install -y wrk"):
        bench.BenchOptions(driver="wrk").resolved_driver()
    assert bench.BenchOptions(driver="auto").resolved_driver() == "builtin"


def test_every_request_of_a_scenario_is_valid_with_its_own_message_ids() -> None:
    for scenario in SCENARIOS.values():
        first, second = scenario.body(b"1" * loadgen.ID_WIDTH), scenario.body(b"2" * loadgen.ID_WIDTH)
        assert len(first) == len(second) == scenario.size
        endpoint = scenario.path.rsplit("/", 1)[1]
        payload = orjson.loads(first)
        assert validate(payload, call_type=endpoint) == []
        items = payload["batch"] if endpoint == "batch" else [payload]
        ids = [item["messageId"] for item in items] + [
            item["messageId"]
            for item in (orjson.loads(second)["batch"] if endpoint == "batch" else [orjson.loads(second)])
        ]
        assert len(ids) == len(set(ids)) == 2 * scenario.events
    assert 550 <= SCENARIOS["single"].size <= 650
    assert 35_000 <= SCENARIOS["batch"].size <= 45_000


def test_latency_percentiles_merge_across_generator_processes() -> None:
    fast = {"requests": 99, "seconds": 1.0, "errors": 0, "latency": {"100": 99}}  # 1.000-1.010 ms
    slow = {"requests": 1, "seconds": 1.0, "errors": 1, "latency": {"5000": 1}}  # 50 ms
    merged = loadgen.merge([fast, slow], "built-in (2 processes)")
    assert (merged.requests, merged.errors, merged.requests_per_second) == (100, 1, 100.0)
    assert merged.p50_ms == pytest.approx(1.005)
    assert merged.p99_ms == pytest.approx(1.005)  # the 99th of 100 answers is still a fast one
    assert loadgen._percentile(Counter({100: 98, 5000: 2}), 0.99) == pytest.approx(50.005)


@pytest.mark.skipif(loadgen.wrk_path() is None, reason="wrk is not on PATH (apt-get install -y wrk)")
def test_wrk_drives_a_server_with_fresh_message_ids() -> None:
    with TargetProcess("mockpipe").wait_ready() as server:
        # the warm-up is a wrk run of its own, and so is the next turn: none of them may resend the ids of another
        loadgen.run_wrk(SCENARIOS["single"], "127.0.0.1", server.port, connections=2, duration=1)
        result = loadgen.run_wrk(
            SCENARIOS["single"], "127.0.0.1", server.port, connections=2, duration=1, warmup=1, server_pid=server.pid
        )
        source = httpx.get(f"http://127.0.0.1:{server.port}/mockpipe/sources/{loadgen.WRITE_KEY}").json()
    assert result.driver == "wrk"
    assert result.requests > 0 and result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms
    assert result.server_cpu_seconds is not None and result.server_cpu_seconds > 0
    assert source["calls"] >= result.requests
    assert (source["duplicates"], source["invalid"]) == (0, 0)


def test_builtin_runs_never_resend_the_ids_of_an_earlier_run() -> None:
    with TargetProcess("mockpipe").wait_ready() as server:
        runs = [
            loadgen.run_builtin(SCENARIOS["batch"], "127.0.0.1", server.port, connections=2, duration=0.2, warmup=0.05)
            for _ in range(2)
        ]
        source = httpx.get(f"http://127.0.0.1:{server.port}/mockpipe/sources/{loadgen.WRITE_KEY}").json()
    assert all(run.requests > 0 and run.errors == 0 for run in runs)
    assert source["calls"] >= sum(run.requests for run in runs) * SCENARIOS["batch"].events
    assert (source["duplicates"], source["invalid"]) == (0, 0)


def test_turns_add_up_into_one_result() -> None:
    slices = [
        loadgen.LoadResult(100, 1.0, 2.0, 10.0, 0, "wrk", 0.25),
        loadgen.LoadResult(300, 1.0, 4.0, 20.0, 1, "wrk", 0.5),
    ]
    total = bench.combined(slices)
    assert (total.requests, total.seconds, total.errors, total.server_cpu_seconds) == (400, 2.0, 1, 0.75)
    assert total.requests_per_second == 200
    assert (total.p50_ms, total.p99_ms) == (3.5, 17.5)  # weighted by requests
    assert bench.combined([*slices, loadgen.LoadResult(0, 1.0, 0, 0, 0, "wrk", None)]).server_cpu_seconds is None


def test_rounds_option() -> None:
    args = build_parser().parse_args(["bench", "--rounds", "3", "--duration", "6"])
    options = options_from_args(args)
    assert (options.rounds, options.duration) == (3, 6)
    assert bench.BenchOptions().rounds == 5 and bench.BenchOptions.quick().rounds == 1
    with pytest.raises(bench.BenchError, match="--rounds"):
        options_from_args(build_parser().parse_args(["bench", "--rounds", "0"]))
