"""`mockpipe bench`: mockpipe against a bare Starlette app and a naive recorder, in one run, with
pytest-httpserver and WireMock as optional columns (`mockpipe.bench.peers`), under fresh ids and resends.

Absolute numbers depend on the machine and on what else runs on it; the targets are ratios and
bounds within one run. Each HTTP server runs in its own process on one Hypercorn worker and is
driven from another process (wrk when it is on PATH, else the built-in generator of
`mockpipe.bench.loadgen`): `mockpipe.bench.http_runs`. The other figures are measured from this
process (`mockpipe.bench.microbench`, `mockpipe.bench.fixture`); `mockpipe.bench.report` holds them
against their targets, and `format_report` here prints them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mockpipe.bench import burst, fixture, microbench, plan_rates
from mockpipe.bench.http_runs import run_scenario
from mockpipe.bench.journal_rates import journal_rates
from mockpipe.bench.peers import PEERS, unavailable
from mockpipe.bench.report import BenchReport
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.bench.targets import LABELS, TARGETS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mockpipe.bench.options import BenchOptions


def run(options: BenchOptions, *, progress: Callable[[str], None] | None = None) -> BenchReport:
    """Every measurement, in one run. `progress` hears what is being measured."""
    say = progress or (lambda text: None)
    began = time.perf_counter()
    report = BenchReport(options, options.resolved_driver())
    peers = []
    for peer in options.peers:
        reason = unavailable(peer)
        if reason is None:
            peers.append(peer)
        else:
            report.skipped[peer] = reason
            say(f"{PEERS.get(peer, peer)} skipped: {reason}")
    for name in options.scenarios:
        say(
            f"HTTP: {name} ({SCENARIOS[name].size:,} bytes, {SCENARIOS[name].events} event(s) per request, "
            f"{SCENARIOS[name].kind}), {options.duration:g} s per server, driver {report.driver}"
        )
        done = run_scenario(name, options, driver=report.driver, targets=(*TARGETS, *peers))
        report.http += done.runs
        for peer, reason in done.skipped.items():
            say(f"{PEERS[peer]} left out of {name}: {reason}")
            report.skipped.setdefault(peer, f"{name}: {reason}")
    if options.burst_events > 0:
        say(
            f"the first read of calls, then of people, each in a fresh server after {options.burst_events:,} "
            "events sent in 100-event batches"
        )
        report.burst = burst.burst_reads(options.burst_events, connections=options.burst_connections)
    say(f"MockPipeServer start and stop, median of {options.start_stop_samples}")
    report.start_stop = microbench.start_stop(options.start_stop_samples)
    say(f"wait_for after a call, {options.wait_samples} samples")
    report.wait = microbench.wait_delay(options.wait_samples)
    say("validator and ingestion in process")
    report.rates = microbench.rates(options.rate_seconds)
    say("ingestion in process with a 50-event tracking plan and without one, taking turns")
    report.plan = plan_rates.plan_rates(options.plan_seconds, rounds=options.plan_rounds)
    say("the journal alone: fresh calls and resends, taking turns")
    report.journal = journal_rates(options.journal_seconds)
    say(f"journal memory, {options.journal_calls:,} calls")
    report.memory_single = microbench.journal_memory(
        options.journal_calls, scenario="single", max_calls=options.bounded_max_calls
    )
    report.memory_batch = microbench.journal_memory(
        options.journal_calls, scenario="batch", max_calls=options.bounded_max_calls
    )
    # Resends are kept as calls of their own (`duplicate_of` the first): counted against the JSON they keep.
    report.memory_resends = microbench.journal_memory(
        options.journal_calls, scenario="batch-resend", max_calls=options.bounded_max_calls
    )
    say(f"`mockpipe validate` start-up beside `python -c pass`, median of {options.startup_runs}")
    report.startup = microbench.startup_time(options.startup_runs)
    say(f"pytest fixture overhead, {options.fixture_tests} tests with and without")
    report.fixture = fixture.fixture_overhead(options.fixture_tests, repeats=options.fixture_repeats)
    report.seconds = time.perf_counter() - began
    return report


# -- formatting ------------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """A Markdown table (readable as is in a terminal); `align` has one of `l`/`r` per column."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                cell.rjust(w) if a == "r" else cell.ljust(w) for cell, w, a in zip(cells, widths, align, strict=True)
            )
            + " |"
        )

    rule = (
        "|"
        + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2)) for w, a in zip(widths, align, strict=True))
        + "|"
    )
    return [line(header), rule, *(line(row) for row in rows)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _scenario_rows(report: BenchReport, name: str, letters: dict[str, str]) -> list[list[str]]:
    """A scenario's servers, then mockpipe's ratios to each, marked against the target that concerns them."""
    scenario = SCENARIOS[name]
    label = (
        f"{name} ({scenario.size / 1024:.1f} KB, {scenario.events} ev, {scenario.kind})"
        if scenario.events > 1
        else f"{name} track ({scenario.size} B, {scenario.kind})"
    )
    rows: list[list[str]] = []
    for run_ in (r for r in report.http if r.scenario == name):
        rows.append(
            [
                label,
                f"({letters[run_.target]}) {LABELS[run_.target]}",
                _number(run_.requests_per_s),
                _number(run_.events_per_s),
                f"{run_.p50_ms:.1f}",
                f"{run_.p99_ms:.1f}",
                _number(run_.cpu_us_per_request),
                f"{run_.rss_before_mb:.0f} → {run_.rss_after_mb:.0f}",
                str(run_.errors),
                "",
            ]
        )
        label = ""
    checks = {check.figure: check for check in report.http_checks(name)}
    for base in LABELS:
        ratio = report.ratio(name, "mockpipe", base)
        mock, other = report.run_of(name, "mockpipe"), report.run_of(name, base)
        if base == "mockpipe" or ratio is None or mock is None or other is None:
            continue
        # the check of this ratio, if it is one: its figure names the baseline
        target = next((c for figure, c in checks.items() if "÷" in figure and LABELS[base] in figure), None)
        rows.append(
            [
                "",
                f"(c) ÷ ({letters[base]})",
                f"{ratio:.2f}x",
                f"{ratio:.2f}x",
                f"{mock.p50_ms / other.p50_ms:.2f}x" if other.p50_ms else "-",
                f"{mock.p99_ms / other.p99_ms:.2f}x" if other.p99_ms else "-",
                f"{mock.cpu_us_per_request / other.cpu_us_per_request:.2f}x" if other.cpu_us_per_request else "-",
                "",
                "",
                "" if target is None else f"{target.target}: {target.status}",
            ]
        )
    return rows


def format_report(report: BenchReport) -> str:
    options = report.options
    out = [
        f"mockpipe bench: {options.duration:g} s per HTTP run after {options.warmup:g} s of warm-up, "
        f"in {options.rounds} turn(s) per server, {options.connections} connections, driver {report.driver}, "
        "one Hypercorn worker per server",
        "mockpipe answers its permissive requests ahead of processing them (--no-idle-processing: the reads "
        "process them)" + ("; what a read then costs is the read after a burst, below" if report.burst else ""),
        "",
    ]
    rows: list[list[str]] = []
    letters = {target: "abcdefgh"[index] for index, target in enumerate(LABELS)}
    for name in options.scenarios:
        rows += _scenario_rows(report, name, letters)
    out += _table(
        [
            "scenario",
            "server",
            "requests/s",
            "events/s",
            "p50 ms",
            "p99 ms",
            "server CPU µs/req",
            "RSS MB before → after",
            "errors",
            "target",
        ],
        rows,
        "llrrrrrrrl",
    )
    out += [f"({letters[peer]}) {PEERS[peer]}: skipped, {reason}" for peer, reason in report.skipped.items()]
    out.append("")

    figures: list[list[str]] = []
    if report.rates is not None:
        figures += [
            ["validate() (public, copies the payload), calls/s", f"{report.rates.validate_per_s:,.0f}", "", ""],
            ["Ingest.handle without HTTP, single track calls/s", f"{report.rates.ingest_single_per_s:,.0f}", "", ""],
            ["Ingest.handle without HTTP, batch events/s", f"{report.rates.ingest_batch_events_per_s:,.0f}", "", ""],
        ]
    if report.journal is not None:
        journal = report.journal
        for label, fresh, resent, ratio in (
            ("single calls", journal.single_fresh_per_s, journal.single_resend_per_s, journal.single_ratio),
            ("batch items", journal.batch_fresh_per_s, journal.batch_resend_per_s, journal.batch_ratio),
        ):
            figures.append(
                [
                    f"Journal.record alone, {label}/s: fresh / resends (CPU time)",
                    f"{fresh:,.0f} / {resent:,.0f} ({ratio:.2f}x)",
                    "",
                    "",
                ]
            )
    if report.fixture is not None and report.fixture.first_test_ms is not None:
        figures.append(
            [
                "`mockpipe` fixture, first test of a session (imports, server start)",
                f"{report.fixture.first_test_ms:.0f} ms",
                "",
                "",
            ]
        )
    if report.startup is not None:
        figures.append(
            [
                "`python -c pass`, the interpreter alone (median; baseline of the start-up below)",
                f"{report.startup.python_s:.3f} s",
                "",
                "",
            ]
        )
    if report.wait is not None:
        figures.append(
            [
                "wait_for return after the client's 200 (p50 / p99; < 0: before it)",
                f"{report.wait.after_200_p50_ms:.2f} / {report.wait.after_200_p99_ms:.2f} ms",
                "",
                "",
            ]
        )
    if report.burst is not None:
        calls, people = report.burst.calls, report.burst.people
        figures.append(
            [
                f"burst before the first reads: {calls.events:,} events in {calls.requests:,} batches, events/s",
                f"{calls.events_per_s:,.0f} / {people.events_per_s:,.0f} (calls / people)",
                "",
                "",
            ]
        )
    if report.plan is not None:
        plan = report.plan
        figures += [
            [
                f"Ingest.handle, single track calls/s: without plan / with a {plan.plan_events}-event plan (CPU time)",
                f"{plan.single_per_s:,.0f} / {plan.single_with_plan_per_s:,.0f}",
                "",
                "",
            ],
            [
                f"Ingest.handle, batch events/s: without plan / with a {plan.plan_events}-event plan (CPU time)",
                f"{plan.batch_events_per_s:,.0f} / {plan.batch_events_with_plan_per_s:,.0f}",
                "",
                "",
            ],
        ]
    figures += [[check.figure, check.measured, check.target, check.status] for check in report.checks()]
    out += _table(["figure", "measured", "target", "status"], figures, "lrll")
    out.append("")
    met = sum(check.met is True for check in report.checks())
    out.append(
        f"{met} of {len(report.checks())} targets met; benchmark took {report.seconds:.0f} s. "
        "Targets are ratios within this run: absolute rates vary with the machine's load."
    )
    return "\n".join(out)
