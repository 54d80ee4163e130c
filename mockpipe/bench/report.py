"""The report of one `mockpipe bench` run: every figure measured, and each against its target."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from mockpipe.bench.peers import PEERS
from mockpipe.bench.scenarios import SCENARIOS

if TYPE_CHECKING:
    from mockpipe.bench import microbench
    from mockpipe.bench.burst import BurstRead, BurstReads
    from mockpipe.bench.fixture import FixtureOverhead
    from mockpipe.bench.http_runs import HttpRun
    from mockpipe.bench.journal_rates import JournalRates
    from mockpipe.bench.options import BenchOptions
    from mockpipe.bench.plan_rates import PlanRates

FLAT_DRIFT = 0.05  # a bounded journal is "flat" when its later peaks stay within this of its earlier ones
STARTUP_TARGET_S = 0.2  # `mockpipe validate` start-up, issue 12: under half of the 0.41 s it took before
# Issue 17, single calls and batches alike for fresh ids and resends (in one run, one Hypercorn worker).
SINGLE_VS_BARE = 0.85  # mockpipe req/s over the bare app's
SPREAD = 3.0  # p99 over p50
BATCH_VS_NAIVE = 3.0  # mockpipe events/s over the naive recorder's
READ_AFTER_BURST_S = 1.0  # the first read of calls (and of people) after 100,000 unprocessed events


@dataclass(frozen=True, slots=True)
class Check:
    """One figure against its target from issues 7 and 12 (`met` is None when it could not be measured)."""

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
    skipped: dict[str, str] = field(default_factory=dict)  # peer -> why it has no column
    journal: JournalRates | None = None
    start_stop: microbench.StartStop | None = None
    wait: microbench.WaitDelay | None = None
    rates: microbench.Rates | None = None
    memory_single: microbench.JournalMemory | None = None
    memory_batch: microbench.JournalMemory | None = None
    memory_resends: microbench.JournalMemory | None = None
    fixture: FixtureOverhead | None = None
    startup: microbench.StartupTime | None = None
    plan: PlanRates | None = None
    burst: BurstReads | None = None
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
        # A JVM's CPU time counts its JIT and collector threads: no fair CPU-per-request ratio
        cpu = None if baseline in PEERS else self.cpu_ratio(scenario, "mockpipe", baseline)
        return f"{ratio:.2f}" + ("" if cpu is None else f" (by CPU/req: {cpu:.2f})")

    def http_checks(self, scenario: str) -> list[Check]:
        """Issue 17's targets for one scenario: single calls against the bare app (and their latency
        spread), batches against the naive recorder; beside the peers, batches have a moonshot."""
        out: list[Check] = []
        known = SCENARIOS.get(scenario)
        if known is None:
            return out
        traffic = f"{'single calls' if known.events == 1 else 'batches'}, {known.kind}"
        if known.events == 1:
            ratio = self.ratio(scenario, "mockpipe", "bare")
            if ratio is not None:
                out.append(
                    Check(
                        f"{traffic}: mockpipe req/s ÷ bare Starlette",
                        self._rate_measure(ratio, scenario, "bare"),
                        f"≥ {SINGLE_VS_BARE:g}",
                        ratio >= SINGLE_VS_BARE,
                    )
                )
            run = self.run_of(scenario, "mockpipe")
            if run is not None and run.p50_ms > 0:
                spread = run.p99_ms / run.p50_ms
                out.append(Check(f"{traffic}: mockpipe p99 ÷ p50", f"{spread:.2f}", f"≤ {SPREAD:g}", spread <= SPREAD))
            return out
        ratio = self.ratio(scenario, "mockpipe", "naive")
        if ratio is not None:
            out.append(
                Check(
                    f"{traffic}: mockpipe events/s ÷ naive recorder",
                    self._rate_measure(ratio, scenario, "naive"),
                    f"≥ {BATCH_VS_NAIVE:g}",
                    ratio >= BATCH_VS_NAIVE,
                )
            )
        if self.run_of(scenario, "mockpipe") is None:
            return out
        for peer, label in PEERS.items():
            if peer not in self.options.peers:  # not asked for: no line (asked for and missing: skipped, why)
                continue
            ratio = self.ratio(scenario, "mockpipe", peer)
            out.append(
                Check(
                    f"{traffic}: mockpipe events/s ÷ {label} (moonshot)",
                    self.skipped.get(peer, "not run") if ratio is None else self._rate_measure(ratio, scenario, peer),
                    "> 1",
                    None if ratio is None else ratio > 1,
                )
            )
        return out

    def checks(self) -> list[Check]:
        out: list[Check] = []
        for scenario in self.options.scenarios:
            out += self.http_checks(scenario)
        for label, memory in (
            ("single calls", self.memory_single),
            ("batch items", self.memory_batch),
            ("batch items, every one a resend", self.memory_resends),
        ):
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
        if self.startup is not None:
            startup = self.startup
            out.append(
                Check(
                    "mockpipe validate start",
                    f"{startup.validate_s:.2f} s (python alone: {startup.python_s:.2f} s)",
                    f"≤ {STARTUP_TARGET_S:g} s",
                    startup.validate_s <= STARTUP_TARGET_S,
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
        if self.plan is not None:
            from mockpipe.bench.plan_rates import PLAN_RATIO_TARGET

            for label, ratio in (("single calls", self.plan.single_ratio), ("batches", self.plan.batch_ratio)):
                out.append(
                    Check(
                        f"ingest with a {self.plan.plan_events}-event plan ÷ without ({label})",
                        f"{ratio:.2f}",
                        f"≥ {PLAN_RATIO_TARGET:g}",
                        ratio >= PLAN_RATIO_TARGET,
                    )
                )
        if self.burst is not None:
            out += [_burst_check(self.burst.calls), _burst_check(self.burst.people)]
        return out

    def to_dict(self) -> dict[str, Any]:
        bases = ("bare", "naive", *(peer for peer in self.options.peers if peer not in self.skipped))
        ratios = {
            f"{scenario}:mockpipe/{base}": self.ratio(scenario, "mockpipe", base)
            for scenario in self.options.scenarios
            for base in bases
        }
        cpu_ratios = {
            f"{scenario}:mockpipe/{base}": self.cpu_ratio(scenario, "mockpipe", base)
            for scenario in self.options.scenarios
            for base in bases
        }
        parts: dict[str, Any] = {
            "options": asdict(self.options),
            "driver": self.driver,
            "seconds": round(self.seconds, 2),
            "http": [asdict(run) for run in self.http],
            "ratios": ratios,
            "cpu_ratios": cpu_ratios,
            "skipped": dict(self.skipped),
        }
        if self.journal is not None:
            parts["journal"] = asdict(self.journal) | {
                "single_ratio": self.journal.single_ratio,
                "batch_ratio": self.journal.batch_ratio,
            }
        figures = ("start_stop", "wait", "rates", "memory_single", "memory_batch", "memory_resends", "fixture")
        for name in (*figures, "startup", "plan"):
            value = getattr(self, name)
            parts[name] = None if value is None else asdict(value)
        for name in ("memory_single", "memory_batch", "memory_resends"):
            memory = getattr(self, name)
            if memory is not None:
                parts[name] |= {"ratio": memory.ratio, "bounded_drift": memory.bounded_drift}
        if self.fixture is not None:
            parts["fixture"]["per_test_ms"] = self.fixture.per_test_ms
        if self.startup is not None:
            parts["startup"]["own_s"] = self.startup.own_s
        parts["burst"] = None
        if self.burst is not None:
            parts["burst"] = {
                name: asdict(read) | {"events_per_s": read.events_per_s, "complete": read.complete}
                for name, read in (("calls", self.burst.calls), ("people", self.burst.people))
            }
        if self.plan is not None:
            parts["plan"] |= {"single_ratio": self.plan.single_ratio, "batch_ratio": self.plan.batch_ratio}
        parts["checks"] = [asdict(check) | {"status": check.status} for check in self.checks()]
        return parts


def _burst_check(read: BurstRead) -> Check:
    """The first read after a burst against its target; an answer short of what was sent misses it."""
    measured = f"{read.read_s:.3f} s"
    if not read.complete:
        measured += (
            f", but {read.count} {read.read} of {read.total:,} "
            f"(expected {read.expected_count} of {read.expected_total:,})"
        )
    return Check(
        f"first GET {read.path} after a burst of {read.events:,} events",
        measured,
        f"< {READ_AFTER_BURST_S:g} s",
        read.complete and read.read_s < READ_AFTER_BURST_S,
    )
