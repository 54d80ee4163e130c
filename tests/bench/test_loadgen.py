"""The built-in load generator: percentiles merge across processes, and no run resends an earlier run's ids."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from mockpipe.bench import loadgen, scenarios
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.bench.targets import TargetProcess


def test_latency_percentiles_merge_across_generator_processes() -> None:
    fast = {"requests": 99, "seconds": 1.0, "errors": 0, "latency": {"100": 99}}  # 1.000-1.010 ms
    slow = {"requests": 1, "seconds": 1.0, "errors": 1, "latency": {"5000": 1}}  # 50 ms
    merged = loadgen.merge([fast, slow], "built-in (2 processes)")
    assert (merged.requests, merged.errors, merged.requests_per_second) == (100, 1, 100.0)
    assert merged.p50_ms == pytest.approx(1.005)
    assert merged.p99_ms == pytest.approx(1.005)  # the 99th of 100 answers is still a fast one
    assert loadgen._percentile(Counter({100: 98, 5000: 2}), 0.99) == pytest.approx(50.005)


def test_builtin_runs_never_resend_the_ids_of_an_earlier_run() -> None:
    with TargetProcess("mockpipe").wait_ready() as server:
        runs = [
            loadgen.run_builtin(SCENARIOS["batch"], "127.0.0.1", server.port, connections=2, duration=1.0, warmup=0.2)
            for _ in range(2)
        ]
        # The first read processes every event the runs left unprocessed: seconds, for a million of them.
        source = httpx.get(f"http://127.0.0.1:{server.port}/mockpipe/sources/{scenarios.WRITE_KEY}", timeout=120).json()
    assert all(run.requests > 0 and run.errors == 0 for run in runs)
    assert source["calls"] >= sum(run.requests for run in runs) * SCENARIOS["batch"].events
    assert (source["duplicates"], source["invalid"]) == (0, 0)


async def _slow_server(delay: float) -> asyncio.Server:
    """A real HTTP server on a free port that answers every request 200 `{}` after `delay` seconds."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                await reader.readexactly(length)
                await asyncio.sleep(delay)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_window_no_answer_landed_in_goes_on_until_one_does() -> None:
    async def measure() -> dict[str, Any]:
        server = await _slow_server(0.3)  # slower than the whole window
        async with server:
            port = server.sockets[0].getsockname()[1]
            return await loadgen.generate(SCENARIOS["single"], "127.0.0.1", port, connections=2, duration=0.05)

    report = asyncio.run(measure())
    assert report["requests"] >= 1 and report["errors"] == 0
    assert report["seconds"] >= 0.25  # the rate is of the window as it was measured, not as planned
