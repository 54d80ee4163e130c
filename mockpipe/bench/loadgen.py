"""The built-in load generator of `mockpipe bench`, and what a load run measured (`LoadResult`).

The generator runs in its own process (`python -m mockpipe.bench.loadgen ...`), one asyncio
protocol per keep-alive connection and pre-built request heads, so that it is not what limits a
single-worker server. Its results are histograms that merge across processes. The bodies are in
`mockpipe.bench.scenarios`; wrk, when it is on PATH, is driven by `mockpipe.bench.wrk`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from mockpipe.bench.scenarios import SCENARIOS, Scenario, next_run, request_head
from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Sequence

# Latencies are kept in buckets of this many microseconds: fine enough for p50/p99 of ms answers.
BUCKET_US = 10
EMPTY_WINDOW_GRACE = 10.0  # seconds a measured window with no answer in it is stretched, at most


class LoadError(MockpipeError):
    """The load generator failed, or the server answered something that is not HTTP."""


# -- results -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class LoadResult:
    """What one load run measured (from wrk or the built-in generator)."""

    requests: int  # answered within the measured window
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, time-outs and non-2xx answers
    driver: str
    server_cpu_seconds: float | None = None  # in the measured window, when the driver could tell

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def _percentile(histogram: Counter[int], fraction: float) -> float:
    """The latency (ms) below which `fraction` of the answers came, from BUCKET_US buckets."""
    total = sum(histogram.values())
    if not total:
        return 0.0
    rank = fraction * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return (bucket + 0.5) * BUCKET_US / 1000
    return max(histogram) * BUCKET_US / 1000


def merge(reports: Sequence[dict[str, Any]], driver: str) -> LoadResult:
    """One result from the JSON reports of several generator processes run side by side."""
    histogram: Counter[int] = Counter()
    for report in reports:
        histogram.update({int(bucket): count for bucket, count in report["latency"].items()})
    return LoadResult(
        requests=sum(report["requests"] for report in reports),
        seconds=max(report["seconds"] for report in reports),
        p50_ms=_percentile(histogram, 0.50),
        p99_ms=_percentile(histogram, 0.99),
        errors=sum(report["errors"] for report in reports),
        driver=driver,
        server_cpu_seconds=next(
            (r["server_cpu_seconds"] for r in reports if r.get("server_cpu_seconds") is not None), None
        ),
    )


# -- the built-in generator --------------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending requests back to back, each with the next id. A server that
    closes after each answer (HTTP/1.0, `Connection: close`: pytest-httpserver) gets a new connection
    for the next request, as wrk does; chunked answers (WireMock) are read to their last chunk."""

    def __init__(self, run: _Run, prefix: str) -> None:
        self.run = run
        self.prefix = prefix
        self.counter = 0
        self.buffer = b""
        self.started = 0.0
        self.transport: asyncio.Transport | None = None
        self.reopening = False
        self.reopened: asyncio.Task[None] | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.counter += 1
        request_id = f"{self.prefix}{self.counter:09d}".encode()
        self.started = time.perf_counter()
        self.transport.write(self.run.head + request_id.join(self.run.parts))

    def _answer_end(self, head: bytes, end: int) -> int | None:
        """Where the answer whose head ends at `end` ends in the buffer (None: not all here yet, -1: no
        length to read it by)."""
        at = head.find(b"content-length:")
        if at >= 0:
            line_end = head.find(b"\r\n", at)
            stop = end + 4 + int(head[at + 15 : line_end if line_end >= 0 else len(head)])
            return stop if len(self.buffer) >= stop else None
        if b"transfer-encoding: chunked" in head:  # small answers only: up to the last, empty chunk
            last = self.buffer.find(b"\n0\r\n\r\n", end + 3)
            return None if last < 0 else last + 6
        return -1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        stop = self._answer_end(head, end)
        if stop is None:
            return
        assert self.transport is not None
        if stop < 0:  # every answer of the servers measured has a length; anything else is a broken run
            self.run.errors += 1
            self.transport.close()
            return
        ok = self.buffer[9:10] == b"2"  # "HTTP/1.1 2xx"
        self.buffer = self.buffer[stop:]
        done = time.perf_counter()
        self.run.answered(done - self.started, ok, done)
        closing = b"connection: close" in head or (head.startswith(b"http/1.0") and b"keep-alive" not in head)
        if self.run.running and closing:
            self.reopening = True
            self.transport.close()
        elif self.run.running:
            self._send()
        else:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reopening and self.run.running:
            self.reopening = False
            self.buffer = b""
            self.reopened = asyncio.get_running_loop().create_task(self._reopen())  # kept: tasks are weakly held
            return
        if self.run.running:
            self.run.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)

    async def _reopen(self) -> None:
        """The same protocol on a new connection: its ids go on counting."""
        try:
            await asyncio.get_running_loop().create_connection(lambda: self, self.run.host, self.run.port)
        except OSError:
            self.run.errors += 1
            if not self.closed.done():
                self.closed.set_result(None)


class _Run:
    """The shared state of the connections of one generator process."""

    def __init__(self, scenario: Scenario, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.head = request_head(scenario, host, port)
        self.parts = scenario.parts()
        self.running = True
        self.window_start = 0.0
        self.window_end = float("inf")
        self.requests = 0
        self.errors = 0
        self.latency: Counter[int] = Counter()

    def answered(self, seconds: float, ok: bool, at: float) -> None:
        if not self.window_start <= at <= self.window_end:
            return  # during warm-up, or late
        if ok:
            self.requests += 1
            self.latency[int(seconds * 1e6) // BUCKET_US] += 1
        else:
            self.errors += 1


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time process `pid` has used so far (None where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, as in proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_child(process: subprocess.Popen[bytes], output: IO[bytes], timeout: float) -> str:
    """Stop a benchmark server's process (SIGTERM, then SIGKILL after `timeout` s) and return what it
    wrote into `output`, the temporary file that took its output (closed here; "" when already)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
    if output.closed:
        return ""
    output.seek(0)
    written = output.read()
    output.close()
    return written.decode(errors="replace")


def process_rss_bytes(pid: int) -> int:
    """Resident memory of process `pid` now (0 where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


async def generate(
    scenario: Scenario,
    host: str,
    port: int,
    *,
    connections: int,
    duration: float,
    warmup: float = 0.0,
    client: int = 0,
    run_number: int = 0,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Drive `connections` keep-alive connections for `warmup` + `duration` seconds; a JSON-ready report.

    With `server_pid`, the report has the CPU time the server used in the measured window.
    """
    run = _Run(scenario, host, port)
    loop = asyncio.get_running_loop()
    protocols: list[_Connection] = []
    for number in range(connections):
        prefix = f"{run_number % 10_000:04d}{client % 100:02d}{number % 1000:03d}"
        _, protocol = await loop.create_connection(functools.partial(_Connection, run, prefix), host, port)
        protocols.append(protocol)
    start = time.perf_counter()
    run.window_start = start + warmup
    run.window_end = run.window_start + duration
    await asyncio.sleep(warmup)
    cpu_before = None if server_pid is None else process_cpu_seconds(server_pid)
    await asyncio.sleep(max(0.0, run.window_end - time.perf_counter()))
    if run.requests == 0 and run.errors == 0:
        # A window no answer landed in says nothing of the server (a loaded machine, a JVM warming
        # up): it goes on until one does, for EMPTY_WINDOW_GRACE seconds at most.
        run.window_end = float("inf")
        give_up = time.perf_counter() + EMPTY_WINDOW_GRACE
        while run.requests == 0 and run.errors == 0 and time.perf_counter() < give_up:
            await asyncio.sleep(0.005)
        run.window_end = time.perf_counter()
    cpu_after = None if server_pid is None else process_cpu_seconds(server_pid)
    run.running = False
    # Answers still on their way are not counted; give them a moment to close cleanly.
    await asyncio.wait([p.closed for p in protocols], timeout=2.0)
    for protocol in protocols:
        if protocol.transport is not None:
            protocol.transport.close()
    return {
        "requests": run.requests,
        "seconds": run.window_end - run.window_start,
        "errors": run.errors,
        "latency": {str(bucket): count for bucket, count in run.latency.items()},
        "server_cpu_seconds": None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
    }


def run_builtin(
    scenario: Scenario,
    host: str,
    port: int,
    *,
    connections: int,
    duration: float,
    warmup: float = 0.0,
    processes: int = 1,
    server_pid: int | None = None,
) -> LoadResult:
    """Run the built-in generator in `processes` child processes sharing the connections.

    With `server_pid`, the first process measures the server's CPU time in the measured window.
    """
    processes = max(1, min(processes, connections))
    run_number = next_run()
    shares = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mockpipe.bench.loadgen",
                "--scenario",
                scenario.name,
                "--host",
                host,
                "--port",
                str(port),
                "--connections",
                str(share),
                "--duration",
                str(duration),
                "--warmup",
                str(warmup),
                "--client",
                str(index),
                "--run",
                str(run_number),
                *(["--server-pid", str(server_pid)] if server_pid is not None and index == 0 else []),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for index, share in enumerate(shares)
    ]
    reports = []
    for child in children:
        out, err = child.communicate(timeout=warmup + duration + 60)
        if child.returncode != 0:
            raise LoadError(f"the load generator failed ({child.returncode}): {err.decode(errors='replace')[-2000:]}")
        reports.append(json.loads(out))
    return merge(reports, f"built-in ({processes} process{'es' if processes > 1 else ''})")


def main(argv: list[str] | None = None) -> int:
    """The generator process: runs one share of the connections and prints its JSON report."""
    parser = argparse.ArgumentParser(prog="python -m mockpipe.bench.loadgen")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--client", type=int, default=os.getpid() % 50)
    parser.add_argument("--run", type=int, default=0, help="run number, part of every id (0-9999)")
    parser.add_argument("--server-pid", type=int, default=None, help="report this process's CPU time")
    args = parser.parse_args(argv)
    report = asyncio.run(
        generate(
            SCENARIOS[args.scenario],
            args.host,
            args.port,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            client=args.client,
            run_number=args.run,
            server_pid=args.server_pid,
        )
    )
    sys.stdout.write(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
