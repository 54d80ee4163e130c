"""The HTTP runs of `mockpipe bench`: each server in a process of its own, driven in turns by wrk or
the built-in generator, and the turns of one server combined into one result. A peer that does not
start is left out of the scenario with the reason (`ScenarioRuns.skipped`), never failing the run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mockpipe.bench.loadgen import LoadResult, run_builtin
from mockpipe.bench.peers import PEERS, WireMockProcess
from mockpipe.bench.scenarios import SCENARIOS, Scenario
from mockpipe.bench.targets import TARGETS, TargetProcess, start_target
from mockpipe.bench.wrk import run_wrk
from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mockpipe.bench.options import BenchOptions

MB = 1024 * 1024


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


@dataclass(slots=True)
class ScenarioRuns:
    """The runs of one scenario, and the peers left out of it (name -> why)."""

    runs: list[HttpRun]
    skipped: dict[str, str]


def _drive(
    scenario: Scenario,
    server: TargetProcess | WireMockProcess,
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
) -> ScenarioRuns:
    """Each target in a fresh server process (started side by side), driven in turns: `options.rounds`
    slices of `duration / rounds` each, warmed up before its first slice. A peer (see
    `mockpipe.bench.peers`) that fails to start is skipped, with its error as the reason."""
    scenario = SCENARIOS[name]
    servers: list[TargetProcess | WireMockProcess] = []
    skipped: dict[str, str] = {}
    rounds = max(1, options.rounds)
    # wrk counts whole seconds: fewer, longer slices rather than slices it would round up
    if driver == "wrk":
        rounds = max(1, min(rounds, int(options.duration)))
    runs: list[HttpRun] = []
    try:
        for target in targets:
            try:
                servers.append(start_target(target))
            except MockpipeError as exc:
                if target not in PEERS:
                    raise
                skipped[target] = str(exc)
        for server in list(servers):
            try:
                server.wait_ready()
            except MockpipeError as exc:
                if server.name not in PEERS:
                    raise
                skipped[server.name] = str(exc)
                servers.remove(server)
        rss_before = {server.name: server.rss_bytes() for server in servers}
        slices: dict[str, list[LoadResult]] = {server.name: [] for server in servers}
        for round_ in range(rounds):
            for server in list(servers):
                try:
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
                except MockpipeError as exc:  # a peer that broke down under load: left out, said why
                    if server.name not in PEERS:
                        raise
                    skipped[server.name] = f"failed under load: {exc}"
                    servers.remove(server)
                    server.stop()
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
    return ScenarioRuns(runs, skipped)


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
