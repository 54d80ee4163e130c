"""How long and how hard `mockpipe bench` measures (`BenchOptions`), and its error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockpipe.bench.peers import PEERS
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.bench.wrk import wrk_path
from mockpipe.errors import MockpipeError

DRIVERS = ("auto", "wrk", "builtin")


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
    scenarios: tuple[str, ...] = tuple(SCENARIOS)  # fresh ids and resends, single calls and batches
    peers: tuple[str, ...] = tuple(PEERS)  # optional columns, each skipped with its reason where missing
    start_stop_samples: int = 20
    wait_samples: int = 50
    rate_seconds: float = 1.0
    journal_seconds: float = 2.0  # the journal alone, fresh calls and resends, in all
    journal_calls: int = 20_000
    bounded_max_calls: int = 2_000
    fixture_tests: int = 1000
    fixture_repeats: int = 2
    startup_runs: int = 10  # runs of `mockpipe validate` (and of `python -c pass`) for its start-up time
    plan_seconds: float = 4.0  # ingestion with and without a tracking plan, in all
    plan_rounds: int = 4  # turns the two take
    # The read after a burst (`mockpipe.bench.burst`): events sent before the first read; 0 leaves it out.
    burst_events: int = 100_000
    burst_connections: int = 4

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
            "journal_seconds": 0.2,
            "peers": (),  # a JVM alone takes longer than the whole quick run: asked for by name only
            "journal_calls": 1000,
            "bounded_max_calls": 200,
            "fixture_tests": 20,
            "fixture_repeats": 1,
            "startup_runs": 3,
            "plan_seconds": 0.4,
            "plan_rounds": 2,
            "burst_events": 10_000,
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
