"""The in-process figures of `mockpipe bench`: server start and stop, `wait_for` latency, the
validator alone, ingestion without HTTP, journal memory, and how long `mockpipe validate` takes to
start. The pytest fixture's cost is measured in `mockpipe.bench.fixture`.
"""

from __future__ import annotations

import gc
import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.bench.scenarios import AUTHORIZATION, ID_WIDTH, SCENARIOS, Scenario
from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.ingest import Ingest
from mockpipe.emulator.server import MockPipeServer
from mockpipe.journal.journal import Journal
from mockpipe.spec.validator import Item, validate, violations_of

if TYPE_CHECKING:
    from mockpipe.journal.journal import Call

_HEADERS = {b"authorization": AUTHORIZATION.encode(), b"content-type": b"application/json"}


def _ms(seconds: float) -> float:
    return seconds * 1000


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


# -- MockPipeServer start and stop -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartStop:
    start_ms: float  # medians
    stop_ms: float
    samples: int


def start_stop(samples: int = 20) -> StartStop:
    """Median time of `MockPipeServer().start()` and of `.stop()` (construction not counted)."""
    starts: list[float] = []
    stops: list[float] = []
    for _ in range(samples):
        server = MockPipeServer()
        began = time.perf_counter()
        server.start()
        started = time.perf_counter()
        server.stop()
        stopped = time.perf_counter()
        starts.append(started - began)
        stops.append(stopped - started)
    return StartStop(_ms(statistics.median(starts)), _ms(statistics.median(stops)), samples)


# -- wait_for ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaitDelay:
    """How long after a call a blocked `wait_for` returns (ms; negative: before the client saw 200)."""

    after_landing_p50_ms: float  # from the journal recording the call
    after_landing_p99_ms: float
    after_200_p50_ms: float  # from the client reading the 200
    after_200_p99_ms: float
    samples: int


def wait_delay(samples: int = 50) -> WaitDelay:
    """A thread blocks in `server.wait_for(n)` while the main thread posts the n-th call over HTTP."""
    scenario = SCENARIOS["single"]
    landed: list[float] = []
    after_landing: list[float] = []
    after_200: list[float] = []
    with MockPipeServer() as server:
        server.journal.subscribe(lambda request, calls: landed.append(time.perf_counter()))
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            for count in range(1, samples + 1):
                returned: list[float] = []
                waiting = threading.Event()

                def wait(
                    count: int = count, returned: list[float] = returned, waiting: threading.Event = waiting
                ) -> None:
                    waiting.set()
                    result = server.wait_for(count, 10.0)
                    returned.append(time.perf_counter())
                    if result.timed_out:
                        returned.clear()

                waiter = threading.Thread(target=wait, name="mockpipe-bench-wait")
                waiter.start()
                waiting.wait()
                time.sleep(0.001)  # let the waiter reach the condition: the measure is a blocked wait_for
                connection.request(
                    "POST",
                    scenario.path,
                    body=scenario.body(f"{count:014d}".encode()),
                    headers={"Authorization": AUTHORIZATION, "Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
                answered = time.perf_counter()
                waiter.join()
                if response.status != 200 or not returned:
                    raise RuntimeError(f"wait_for did not see call {count} (status {response.status})")
                after_landing.append(returned[0] - landed[-1])
                after_200.append(returned[0] - answered)
        finally:
            connection.close()
    return WaitDelay(
        _ms(statistics.median(after_landing)),
        _ms(_p99(after_landing)),
        _ms(statistics.median(after_200)),
        _ms(_p99(after_200)),
        samples,
    )


# -- the validator and the ingest path without HTTP -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rates:
    validate_per_s: float  # `validate(payload)`: the public entry point (copies the payload first)
    check_call_per_s: float  # `violations_of(item)`: what the emulator runs per call
    ingest_single_per_s: float  # `Ingest.handle` of one track request: parse, check, enrich, journal
    ingest_batch_events_per_s: float  # the same for 100-event batches, in calls


def _rate(function: Any, seconds: float, per_call: int = 1) -> float:
    """Calls of `function()` per second over about `seconds` (times `per_call`)."""
    count = 0
    began = time.perf_counter()
    deadline = began + seconds
    while True:
        for _ in range(50):
            function()
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            return count * per_call / (now - began)


def rates(seconds: float = 1.0) -> Rates:
    """Calls per second of the validator alone and of the ingestion path, in this process."""
    single = orjson.loads(SCENARIOS["single"].body(b"00000000000001"))
    item = Item("track", single)
    if validate(single, call_type="track") or violations_of(item):
        raise RuntimeError("the benchmark's track call is not valid")

    ingest = Ingest(ServerConfig(), Journal(max_calls=1000))  # bounded: the rate, not memory, is measured here
    bodies = {name: _bodies(scenario) for name, scenario in SCENARIOS.items()}

    def ingest_one(name: str) -> None:
        scenario = SCENARIOS[name]
        status, _ = ingest.handle("POST", scenario.path, _HEADERS, next(bodies[name]), False)
        if status != 200:
            raise RuntimeError(f"ingest answered {status}")

    return Rates(
        validate_per_s=_rate(lambda: validate(single, call_type="track"), seconds),
        check_call_per_s=_rate(lambda: violations_of(item), seconds),
        ingest_single_per_s=_rate(lambda: ingest_one("single"), seconds),
        ingest_batch_events_per_s=_rate(lambda: ingest_one("batch"), seconds, SCENARIOS["batch"].events),
    )


def _bodies(scenario: Scenario) -> Any:
    """Bodies of `scenario` with ids never used before (an endless iterator)."""
    parts = scenario.parts()
    number = 0
    while True:
        number += 1
        yield f"{number:014d}".encode().join(parts)


# -- journal memory --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalMemory:
    calls: int
    json_bytes: int  # sum of the kept calls' raw JSON
    growth_bytes: int  # Python memory the journal holds for them (tracemalloc, after a collection)
    bounded_max_calls: int
    bounded_fill_bytes: int  # memory once `max_calls` calls are kept
    bounded_after_bytes: int  # the most memory held over the last half of the run (see bounded_drift)
    bounded_settled_bytes: int = 0  # the most memory held over the first half, after the fill

    @property
    def ratio(self) -> float:
        return self.growth_bytes / self.json_bytes if self.json_bytes else 0.0

    @property
    def bounded_drift(self) -> float:
        """How much more the bounded journal held over the second half of a long run than over the
        first (0: flat). Peaks are compared: memory swings within a cycle of dictionary and array
        resizes, and an endless run must not climb from one cycle to the next."""
        return (self.bounded_after_bytes - self.bounded_settled_bytes) / max(1, self.bounded_settled_bytes)


def _held(journal: Journal, scenario: Scenario, requests: int, bodies: Any) -> int:
    """Python memory newly held after feeding `requests` requests to a journal (needs tracemalloc)."""
    ingest = Ingest(ServerConfig(), journal)
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(requests):
        ingest.handle("POST", scenario.path, _HEADERS, next(bodies), False)
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


BOUNDED_ROUNDS = 16  # times a bounded journal is filled again, to see whether it climbs


def journal_memory(calls: int = 20_000, *, scenario: str = "single", max_calls: int = 2_000) -> JournalMemory:
    """How much memory the journal holds per JSON byte it keeps, unbounded and with `max_calls`."""
    chosen = SCENARIOS[scenario]
    requests = max(1, calls // chosen.events)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        bodies = _bodies(chosen)
        journal = Journal()
        ingest = Ingest(ServerConfig(), Journal())
        ingest.handle("POST", chosen.path, _HEADERS, next(bodies), False)  # warm caches outside the count
        growth = _held(journal, chosen, requests, bodies)
        kept: list[Call] = journal.calls(duplicates=True)
        json_bytes = sum(len(call.raw) for call in kept)
        bounded = Journal(max_calls=max_calls)
        per_bound = max(1, max_calls // chosen.events)  # requests that fill the bound once
        fill = _held(bounded, chosen, per_bound, bodies)
        held = fill
        samples = []
        for _ in range(BOUNDED_ROUNDS):  # each round replaces every call kept
            held += _held(bounded, chosen, per_bound, bodies)
            samples.append(held)
    finally:
        if not tracing:
            tracemalloc.stop()
    half = BOUNDED_ROUNDS // 2
    return JournalMemory(len(kept), json_bytes, growth, max_calls, fill, max(samples[half:]), max(samples[:half]))


# -- command-line start-up -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartupTime:
    """Wall time of a command-line run that does next to nothing, against the bare interpreter."""

    validate_s: float  # median of `python -m mockpipe validate <one small file>`
    python_s: float  # median of `python -c pass`: what any Python command costs on this machine now
    runs: int

    @property
    def own_s(self) -> float:
        """What mockpipe adds to the interpreter's own start-up."""
        return self.validate_s - self.python_s


def startup_time(runs: int = 10) -> StartupTime:
    """Median wall times of `python -m mockpipe validate` on one valid track call and of `python -c pass`.

    The two commands take turns, so that a machine whose load changes over the run slows both alike.
    Raises `RuntimeError` when the validate run fails (then the time would be that of an error path).
    """
    if runs < 1:
        raise ValueError("startup_time needs at least one run")
    validate_times: list[float] = []
    python_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mockpipe-bench-startup-") as scratch:
        call = Path(scratch, "call.json")
        call.write_bytes(SCENARIOS["single"].body(b"0" * ID_WIDTH))  # as sent to /v1/track: no `type`
        validate_command = [sys.executable, "-m", "mockpipe", "validate", "--call-type", "track", str(call)]
        commands = (
            (validate_command, validate_times),
            ([sys.executable, "-c", "pass"], python_times),
        )
        for _ in range(runs):
            for command, times in commands:
                began = time.perf_counter()
                done = subprocess.run(command, cwd=scratch, capture_output=True, timeout=120, check=False)
                times.append(time.perf_counter() - began)
                if done.returncode != 0:
                    output = (done.stdout + done.stderr).decode(errors="replace").strip()[-300:]
                    raise RuntimeError(f"{' '.join(command[1:])} failed ({done.returncode}): {output}")
    return StartupTime(statistics.median(validate_times), statistics.median(python_times), runs)
