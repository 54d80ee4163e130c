"""`mockpipe bench`: mockpipe against a bare Starlette app and a naive recorder, in one run.

Absolute numbers depend on the machine and on what else runs on it; the targets are ratios and
bounds within one run. Each HTTP server runs in its own process on one Hypercorn worker and is
driven from another process (wrk when it is on PATH, else the built-in generator of
`mockpipe.bench.loadgen`). The other figures are measured in this process (`mockpipe.bench.microbench`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from mockpipe.bench import microbench
from mockpipe.bench.loadgen import SCENARIOS, LoadResult, Scenario, run_builtin, run_wrk, wrk_path
from mockpipe.bench.targets import TARGETS, TargetProcess
from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

MB = 1024 * 1024
DRIVERS = ("auto", "wrk", "builtin")
FLAT_DRIFT = 0.05  # a bounded journal is "flat" when its later peaks stay within this of its earlier ones


# -- options -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    """How long and how hard to measure. `quick()` is the CI smoke version (a few seconds)."""

    duration: float = 10.0  # seconds per HTTP run
    warmup: float = 1.0
    # The servers take turns this many times, each for duration / rounds: a machine whose speed
    # drifts over the run (a shared VM) then slows them all alike, instead of whichever ran last.
    rounds: int = 5
    connections: int = 16
    driver: str = "auto"
    client_processes: int = 1
    scenarios: tuple[str, ...] = ("single", "batch")
    start_stop_samples: int = 20
    wait_samples: int = 50
    rate_seconds: float = 1.0
    journal_calls: int = 20_000
    bounded_max_calls: int = 2_000
    fixture_tests: int = 1000
    fixture_repeats: int = 2

    @classmethod
    def quick(cls, **overrides: Any) -> BenchOptions:
        settings: dict[str, Any] = {
            "duration": 0.25,
            "warmup": 0.05,
            "rounds": 1,
            "driver": "builtin",
            "start_stop_samples": 5,
            "wait_samples": 10,
            "rate_seconds": 0.1,
            "journal_calls": 1000,
            "bounded_max_calls": 200,
            "fixture_tests": 20,
            "fixture_repeats": 1,
        }
        return cls(**(settings | overrides))

    def resolved_driver(self) -> str:
        """`wrk` or `builtin`; raises `BenchError` when wrk is asked for and missing."""
        if self.driver == "wrk" and wrk_path() is None:
            raise BenchError("--driver wrk: wrk is not on PATH (on Debian: apt-get install -y wrk)")
        if self.driver == "auto":
            return "wrk" if wrk_path() is not None else "builtin"
        return self.driver


class BenchError(MockpipeError):
    """The benchmark could not run as asked."""


# -- HTTP runs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpRun:
    """One server under one scenario."""

    scenario: str
    target: str
    requests_per_s: float
    events_per_s: float
    p50_ms: float
    p99_ms: float
    rss_before_mb: float
    rss_after_mb: float
    cpu_us_per_request: float  # server CPU time per answered request: steadier than rates on a busy machine
    requests: int
    errors: int
    driver: str


def _drive(
    scenario: Scenario,
    server: TargetProcess,
    options: BenchOptions,
    driver: str,
    *,
    duration: float,
    warmup: float,
) -> LoadResult:
    if driver == "wrk":
        return run_wrk(
            scenario,
            "127.0.0.1",
            server.port,
            connections=options.connections,
            duration=duration,
            warmup=warmup,
            server_pid=server.pid,
        )
    return run_builtin(
        scenario,
        "127.0.0.1",
        server.port,
        connections=options.connections,
        duration=duration,
        warmup=warmup,
        processes=options.client_processes,
        server_pid=server.pid,
    )


def run_scenario(
    name: str,
    options: BenchOptions,
    *,
    driver: str,
    targets: Sequence[str] = tuple(TARGETS),
) -> list[HttpRun]:
    """Each target in a fresh server process (started side by side), driven in turns: `options.rounds`
    slices of `duration / rounds` each, warmed up before its first slice."""
    scenario = SCENARIOS[name]
    servers = [TargetProcess(target) for target in targets]
    rounds = max(1, options.rounds)
    # wrk counts whole seconds: fewer, longer slices rather than slices it would round up
    if driver == "wrk":
        rounds = max(1, min(rounds, int(options.duration)))
    runs: list[HttpRun] = []
    try:
        for server in servers:
            server.wait_ready()
        rss_before = {server.name: server.rss_bytes() for server in servers}
        slices: dict[str, list[LoadResult]] = {server.name: [] for server in servers}
        for round_ in range(rounds):
            for server in servers:
                slices[server.name].append(
                    _drive(
                        scenario,
                        server,
                        options,
                        driver,
                        duration=options.duration / rounds,
                        warmup=options.warmup if round_ == 0 else 0.0,
                    )
                )
        for server in servers:
            result = combined(slices[server.name])
            cpu = result.server_cpu_seconds or 0.0
            runs.append(
                HttpRun(
                    scenario=name,
                    target=server.name,
                    requests_per_s=result.requests_per_second,
                    events_per_s=result.requests_per_second * scenario.events,
                    p50_ms=result.p50_ms,
                    p99_ms=result.p99_ms,
                    rss_before_mb=rss_before[server.name] / MB,
                    rss_after_mb=server.rss_bytes() / MB,
                    cpu_us_per_request=cpu * 1e6 / result.requests if result.requests else 0.0,
                    requests=result.requests,
                    errors=result.errors,
                    driver=result.driver,
                )
            )
    finally:
        for server in servers:
            server.stop()
    return runs


def combined(slices: Sequence[LoadResult]) -> LoadResult:
    """One result from the slices of a server's turns: counts and times add up; the latency
    percentiles are the slices' own, weighted by their requests (the drivers keep no histogram)."""
    requests = sum(part.requests for part in slices)

    def weighted(value: Callable[[LoadResult], float]) -> float:
        return sum(value(part) * part.requests for part in slices) / requests if requests else 0.0

    cpu = [part.server_cpu_seconds for part in slices]
    return LoadResult(
        requests=requests,
        seconds=sum(part.seconds for part in slices),
        p50_ms=weighted(lambda part: part.p50_ms),
        p99_ms=weighted(lambda part: part.p99_ms),
        errors=sum(part.errors for part in slices),
        driver=slices[0].driver,
        server_cpu_seconds=None if any(seconds is None for seconds in cpu) else sum(c or 0.0 for c in cpu),
    )


# -- the report ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One figure against its target from issue 7 (`met` is None when it could not be measured)."""

    figure: str
    measured: str
    target: str
    met: bool | None

    @property
    def status(self) -> str:
        return "skipped" if self.met is None else "met" if self.met else "NOT MET"


@dataclass
class BenchReport:
    options: BenchOptions
    driver: str
    http: list[HttpRun] = field(default_factory=list)
    start_stop: microbench.StartStop | None = None
    wait: microbench.WaitDelay | None = None
    rates: microbench.Rates | None = None
    memory_single: microbench.JournalMemory | None = None
    memory_batch: microbench.JournalMemory | None = None
    fixture: microbench.FixtureOverhead | None = None
    seconds: float = 0.0

    def run_of(self, scenario: str, target: str) -> HttpRun | None:
        return next((r for r in self.http if r.scenario == scenario and r.target == target), None)

    def ratio(self, scenario: str, target: str, baseline: str) -> float | None:
        """Requests (and so events) per second of `target` over `baseline` in `scenario`."""
        run, base = self.run_of(scenario, target), self.run_of(scenario, baseline)
        if run is None or base is None or base.requests_per_s <= 0:
            return None
        return run.requests_per_s / base.requests_per_s

    def cpu_ratio(self, scenario: str, target: str, baseline: str) -> float | None:
        """The throughput ratio CPU time predicts (baseline's CPU per request over target's): on a
        machine shared with other work it moves less than the measured rates do."""
        run, base = self.run_of(scenario, target), self.run_of(scenario, baseline)
        if run is None or base is None or run.cpu_us_per_request <= 0 or base.cpu_us_per_request <= 0:
            return None
        return base.cpu_us_per_request / run.cpu_us_per_request

    def _rate_measure(self, ratio: float, scenario: str, baseline: str) -> str:
        cpu = self.cpu_ratio(scenario, "mockpipe", baseline)
        return f"{ratio:.2f}" + ("" if cpu is None else f" (by CPU/req: {cpu:.2f})")

    def checks(self) -> list[Check]:
        out: list[Check] = []
        single_bare = self.ratio("single", "mockpipe", "bare")
        if single_bare is not None:
            out.append(
                Check(
                    "single calls: mockpipe req/s ÷ bare Starlette",
                    self._rate_measure(single_bare, "single", "bare"),
                    "≥ 0.85",
                    single_bare >= 0.85,
                )
            )
        single = self.run_of("single", "mockpipe")
        if single is not None and single.p50_ms > 0:
            spread = single.p99_ms / single.p50_ms
            out.append(Check("single calls: mockpipe p99 ÷ p50", f"{spread:.2f}", "≤ 3", spread <= 3))
        batch_naive = self.ratio("batch", "mockpipe", "naive")
        if batch_naive is not None:
            out.append(
                Check(
                    "batches: mockpipe events/s ÷ naive recorder",
                    self._rate_measure(batch_naive, "batch", "naive"),
                    "≥ 2",
                    batch_naive >= 2,
                )
            )
        for label, memory in (("single calls", self.memory_single), ("batch items", self.memory_batch)):
            if memory is not None:
                out.append(
                    Check(
                        f"journal memory ÷ JSON bytes kept ({label})",
                        f"{memory.ratio:.2f}",
                        "≤ 1.5",
                        memory.ratio <= 1.5,
                    )
                )
        if self.memory_single is not None:
            drift = self.memory_single.bounded_drift
            out.append(
                Check(
                    f"--max-calls {self.memory_single.bounded_max_calls}: peak over refills 9-16 vs 1-8",
                    f"{drift:+.1%}",
                    f"flat (≤ {FLAT_DRIFT:.0%})",
                    drift <= FLAT_DRIFT,
                )
            )
        if self.start_stop is not None:
            out.append(
                Check(
                    "MockPipeServer start (median)",
                    f"{self.start_stop.start_ms:.1f} ms",
                    "≤ 50 ms",
                    self.start_stop.start_ms <= 50,
                )
            )
            out.append(
                Check(
                    "MockPipeServer stop (median)",
                    f"{self.start_stop.stop_ms:.1f} ms",
                    "≤ 50 ms",
                    self.start_stop.stop_ms <= 50,
                )
            )
        if self.fixture is not None:
            per_test = self.fixture.per_test_ms
            out.append(
                Check(
                    "`mockpipe` fixture overhead per test",
                    self.fixture.skipped or f"{per_test:.2f} ms",
                    "≤ 1 ms",
                    None if per_test is None else per_test <= 1,
                )
            )
        if self.wait is not None:
            worst = max(self.wait.after_landing_p99_ms, self.wait.after_200_p99_ms)
            out.append(Check("wait_for return after the call lands (p99)", f"{worst:.2f} ms", "≤ 5 ms", worst <= 5))
        if self.rates is not None:
            rate = self.rates.check_call_per_s
            out.append(
                Check("validator alone (check_call), valid calls/s", f"{rate:,.0f}", "≥ 200,000", rate >= 200_000)
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        ratios = {
            f"{scenario}:mockpipe/{base}": self.ratio(scenario, "mockpipe", base)
            for scenario in self.options.scenarios
            for base in ("bare", "naive")
        }
        cpu_ratios = {
            f"{scenario}:mockpipe/{base}": self.cpu_ratio(scenario, "mockpipe", base)
            for scenario in self.options.scenarios
            for base in ("bare", "naive")
        }
        parts: dict[str, Any] = {
            "options": asdict(self.options),
            "driver": self.driver,
            "seconds": round(self.seconds, 2),
            "http": [asdict(run) for run in self.http],
            "ratios": ratios,
            "cpu_ratios": cpu_ratios,
        }
        for name in ("start_stop", "wait", "rates", "memory_single", "memory_batch", "fixture"):
            value = getattr(self, name)
            parts[name] = None if value is None else asdict(value)
        for name in ("memory_single", "memory_batch"):
            memory = getattr(self, name)
            if memory is not None:
                parts[name] |= {"ratio": memory.ratio, "bounded_drift": memory.bounded_drift}
        if self.fixture is not None:
            parts["fixture"]["per_test_ms"] = self.fixture.per_test_ms
        parts["checks"] = [asdict(check) | {"status": check.status} for check in self.checks()]
        return parts


def run(options: BenchOptions, *, progress: Callable[[str], None] | None = None) -> BenchReport:
    """Every measurement, in one run. `progress` hears what is being measured."""
    say = progress or (lambda text: None)
    began = time.perf_counter()
    report = BenchReport(options, options.resolved_driver())
    for name in options.scenarios:
        say(
            f"HTTP: {name} ({SCENARIOS[name].size:,} bytes, {SCENARIOS[name].events} event(s) per request), "
            f"{options.duration:g} s per server, driver {report.driver}"
        )
        report.http += run_scenario(name, options, driver=report.driver)
    say(f"MockPipeServer start and stop, median of {options.start_stop_samples}")
    report.start_stop = microbench.start_stop(options.start_stop_samples)
    say(f"wait_for after a call, {options.wait_samples} samples")
    report.wait = microbench.wait_delay(options.wait_samples)
    say("validator and ingestion in process")
    report.rates = microbench.rates(options.rate_seconds)
    say(f"journal memory, {options.journal_calls:,} calls")
    report.memory_single = microbench.journal_memory(
        options.journal_calls, scenario="single", max_calls=options.bounded_max_calls
    )
    report.memory_batch = microbench.journal_memory(
        options.journal_calls, scenario="batch", max_calls=options.bounded_max_calls
    )
    say(f"pytest fixture overhead, {options.fixture_tests} tests with and without")
    report.fixture = microbench.fixture_overhead(options.fixture_tests, repeats=options.fixture_repeats)
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


def format_report(report: BenchReport) -> str:
    options = report.options
    out = [
        f"mockpipe bench: {options.duration:g} s per HTTP run after {options.warmup:g} s of warm-up, "
        f"in {options.rounds} turn(s) per server, {options.connections} connections, driver {report.driver}, "
        "one Hypercorn worker per server",
        "",
    ]
    rows: list[list[str]] = []
    for name in options.scenarios:
        scenario = SCENARIOS[name]
        label = (
            f"{name} ({scenario.size / 1024:.1f} KB, {scenario.events} ev)"
            if scenario.events > 1
            else f"{name} track ({scenario.size} B)"
        )
        for run_ in (r for r in report.http if r.scenario == name):
            rows.append(
                [
                    label,
                    f"({'abc'[list(TARGETS).index(run_.target)]}) {TARGETS[run_.target]}",
                    _number(run_.requests_per_s),
                    _number(run_.events_per_s),
                    f"{run_.p50_ms:.1f}",
                    f"{run_.p99_ms:.1f}",
                    _number(run_.cpu_us_per_request),
                    f"{run_.rss_before_mb:.0f} → {run_.rss_after_mb:.0f}",
                    str(run_.errors),
                ]
            )
            label = ""
        for base, letter in (("bare", "a"), ("naive", "b")):
            ratio = report.ratio(name, "mockpipe", base)
            mock, other = report.run_of(name, "mockpipe"), report.run_of(name, base)
            if ratio is None or mock is None or other is None:
                continue
            rows.append(
                [
                    "",
                    f"(c) ÷ ({letter})",
                    f"{ratio:.2f}x",
                    f"{ratio:.2f}x",
                    f"{mock.p50_ms / other.p50_ms:.2f}x" if other.p50_ms else "-",
                    f"{mock.p99_ms / other.p99_ms:.2f}x" if other.p99_ms else "-",
                    f"{mock.cpu_us_per_request / other.cpu_us_per_request:.2f}x" if other.cpu_us_per_request else "-",
                    "",
                    "",
                ]
            )
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
        ],
        rows,
        "llrrrrrrr",
    )
    out.append("")

    figures: list[list[str]] = []
    if report.rates is not None:
        figures += [
            ["validate() (public, copies the payload), calls/s", f"{report.rates.validate_per_s:,.0f}", "", ""],
            ["Ingest.handle without HTTP, single track calls/s", f"{report.rates.ingest_single_per_s:,.0f}", "", ""],
            ["Ingest.handle without HTTP, batch events/s", f"{report.rates.ingest_batch_events_per_s:,.0f}", "", ""],
        ]
    if report.fixture is not None and report.fixture.first_test_ms is not None:
        figures.append(
            [
                "`mockpipe` fixture, first test of a session (imports, server start)",
                f"{report.fixture.first_test_ms:.0f} ms",
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
    figures += [[check.figure, check.measured, check.target, check.status] for check in report.checks()]
    out += _table(["figure", "measured", "target", "status"], figures, "lrll")
    out.append("")
    met = sum(check.met is True for check in report.checks())
    out.append(
        f"{met} of {len(report.checks())} targets met; benchmark took {report.seconds:.0f} s. "
        "Targets are ratios within this run: absolute rates vary with the machine's load."
    )
    return "\n".join(out)
