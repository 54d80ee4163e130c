"""Ten giant long-polls on a long journal, measured by hand (issue 13): peak memory of the server, and how
long `/mockpipe/health` takes to answer while they run.

    python scripts/giant_waits.py                 # 300,000 calls, ten `count=1000000000&timeout=5` waits
    python scripts/giant_waits.py 50000 --waits 10 --timeout 5

The server is `mockpipe serve` in a process of its own, filled over HTTP (batches of 500 calls of about
300 bytes). It also runs a monitor of its event loop (a task that sleeps 5 ms and notes how late it
wakes), times the garbage collector, what the waits do on the loop (`JournalReads._gather`, one slice of
a wait) and in the page-writing worker, and prints those figures, from the start of the waits, with
every event over 20 ms, when it stops. A quiet machine is needed for figures worth reading.
"""

from __future__ import annotations

import argparse
import base64
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

# Run in the server process: the loop monitor and the timers, then `mockpipe serve`.
SERVER = r"""
import asyncio, atexit, signal, sys, threading, time
from mockpipe.journal import reading
from mockpipe.emulator import inspection

import gc
figures = {"gather": [], "page": [], "lag": [], "gc": []}
events = []  # (when, what, seconds) of everything over 20 ms, to see what a late loop overlapped
gc_started = [0.0]

def on_gc(phase, info):
    if phase == "start":
        gc_started[0] = time.perf_counter()
    else:
        took = time.perf_counter() - gc_started[0]
        figures["gc"].append(took)
        if took > 0.02:
            events.append((time.perf_counter(), f"gc gen{info['generation']}", took))
gc.callbacks.append(on_gc)

def timed(name, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            took = time.perf_counter() - started
            figures[name].append(took)
            if took > 0.02:
                events.append((time.perf_counter(), name, took))
    return wrapper

reading.JournalReads._gather = timed("gather", reading.JournalReads._gather)
inspection.Inspection._wait_page = timed("page", inspection.Inspection._wait_page)

original_run = asyncio.run
def run(main, **kwargs):
    async def with_monitor():
        async def monitor():
            while True:
                started = time.perf_counter()
                await asyncio.sleep(0.005)
                late = time.perf_counter() - started - 0.005
                figures["lag"].append(late)
                if late > 0.02:
                    events.append((time.perf_counter(), "loop late", late))
        task = asyncio.get_running_loop().create_task(monitor())
        try:
            return await main
        finally:
            task.cancel()
    return original_run(with_monitor(), **kwargs)
asyncio.run = run

def report():
    for when, what, took in events[:60]:
        print(f"FIGURE event {when:.3f} {what} {took * 1000:.0f} ms", file=sys.stderr)
    for name, values in figures.items():
        if values:
            values.sort()
            print(f"FIGURE {name}: n={len(values)} max={values[-1] * 1000:.1f} ms "
                  f"p99={values[int(len(values) * 0.99)] * 1000:.1f} ms sum={sum(values):.2f} s", file=sys.stderr)
atexit.register(report)
def reset(*_):  # the figures count from here on
    for values in figures.values():
        values.clear()
    events.clear()
signal.signal(signal.SIGUSR1, reset)
signal.signal(signal.SIGUSR2, lambda *_: events.append((time.perf_counter(), "waits over", 0)))

from mockpipe.cli import main
sys.exit(main(["serve", "--port", "0", "--keep-alive-timeout", "60"]))
"""


def _peak_kb(pid: int, field: str = "VmHWM") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _fill(url: str, calls: int) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(b"k:").decode()}

    def send(first: int) -> None:
        batch = [
            {"type": "track", "userId": f"u{n}", "event": "Filler", "properties": {"n": n, "pad": "x" * 200}}
            for n in range(first, min(first + 500, calls))
        ]
        with httpx.Client(timeout=120) as http:
            assert http.post(url + "/v1/batch", json={"batch": batch}, headers=auth).status_code == 200

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(send, range(0, calls, 500)))


def _health(http: httpx.Client, until: threading.Event | float) -> list[float]:
    latencies: list[float] = []
    while (time.monotonic() < until) if isinstance(until, float) else not until.is_set():
        started = time.perf_counter()
        assert http.get("/mockpipe/health").status_code == 200
        latencies.append(time.perf_counter() - started)
        time.sleep(0.02)
    return latencies


def _shown(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    return (
        f"n={len(ordered)} median={statistics.median(ordered) * 1000:.1f} ms "
        f"p95={ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms max={ordered[-1] * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("calls", type=int, nargs="?", default=300_000)
    parser.add_argument("--waits", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        if "listening on " not in first:
            raise SystemExit(f"mockpipe serve did not start: {first}{server.communicate(timeout=10)[1]}")
        url = first.split("listening on ")[1].split()[0]
        started = time.monotonic()
        _fill(url, args.calls)
        print(f"filled {args.calls} calls in {time.monotonic() - started:.1f} s")
        with httpx.Client(base_url=url, timeout=60) as http:
            base_kb = _peak_kb(server.pid, "VmRSS")
            before_kb = _peak_kb(server.pid)
            print(f"server RSS {base_kb / 1024:.0f} MB, peak so far {before_kb / 1024:.0f} MB")
            print(f"health, idle:        {_shown(_health(http, time.monotonic() + 2))}")
            server.send_signal(signal.SIGUSR1)  # the server's figures count from here: the waits alone
            done = threading.Event()
            answers: list[int] = []

            def wait() -> None:
                with httpx.Client(base_url=url, timeout=120) as own:
                    params = {"count": 10**9, "timeout": args.timeout}
                    answers.append(own.get("/mockpipe/calls/wait", params=params).status_code)

            waits = [threading.Thread(target=wait) for _ in range(args.waits)]
            for thread in waits:
                thread.start()

            def watch() -> None:
                for thread in waits:
                    thread.join()
                done.set()

            watcher = threading.Thread(target=watch)
            watcher.start()
            during = _health(http, done)
            watcher.join()
            server.send_signal(signal.SIGUSR2)  # marks the end of the waits among the server's events
            print(f"health, during waits: {_shown(during)}")
            peak_kb = _peak_kb(server.pid)
            print(
                f"{args.waits} waits answered {answers}; server peak {peak_kb / 1024:.0f} MB "
                f"(+{(peak_kb - before_kb) / 1024:.0f} MB over the peak before them)"
            )
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
        for line in err.splitlines():
            if line.startswith("FIGURE"):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
