"""Memory of a journal of N calls: received live (with a store attached, as `serve --store` runs)
against the same calls restored from that store at the next start. Each side runs in a process of its own.

    python scripts/store_memory.py 300000            # both sides; prints resident memory and timings
    python scripts/store_memory.py 300000 --keep DIR # keeps the store in DIR

Calls are fed straight to the ingest (no HTTP): what is measured is the journal, its store and the
people model, as `Emulator.build(store=...)` assembles them. Memory is the process's resident set
(VmRSS) once the journal is built and a collection has run, and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

BATCH = 100
HEADERS = {b"authorization": b"Basic " + base64.b64encode(b"wk_memory:"), b"content-type": b"application/json"}


def _status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in bytes."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found


def _batches(calls: int) -> Iterator[bytes]:
    # Realistic track calls: a messageId and user of their own, a few properties and a context.
    # Made one batch at a time: a list of every body would leave freed memory for the journal to reuse.
    for start in range(0, calls, BATCH):
        batch = [
            {
                "type": "track",
                "userId": f"user-{n % 5000}",
                "event": ("Product Viewed", "Order Completed", "Signed In")[n % 3],
                "messageId": f"m-{n:012d}",
                "properties": {"sku": f"SKU-{n % 997}", "price": n % 100 + 0.99, "currency": "EUR"},
                "context": {"library": {"name": "analytics-python", "version": "2.3.2"}, "ip": "10.0.0.1"},
            }
            for n in range(start, min(calls, start + BATCH))
        ]
        yield orjson.dumps({"batch": batch})


def live(path: Path, calls: int) -> dict[str, float]:
    from mockpipe.emulator.emulator import Emulator
    from mockpipe.emulator.ingest import Ingest

    gc.collect()
    base = _status()["VmRSS"]
    started = time.perf_counter()
    emulator = Emulator.build(store=path)
    ingest = Ingest(emulator.config, emulator.journal, emulator.faults)
    for body in _batches(calls):
        status, _ = ingest.handle("POST", "/v1/batch", HEADERS, body, False)
        assert status == 200
    seconds = time.perf_counter() - started
    gc.collect()
    held = _status()
    assert len(emulator.journal) == calls
    emulator.close()
    return {"seconds": seconds, "rss": held["VmRSS"] - base, "peak": held["VmHWM"] - base}


def restored(path: Path, calls: int) -> dict[str, float]:
    from mockpipe.emulator.emulator import Emulator

    gc.collect()
    base = _status()["VmRSS"]
    started = time.perf_counter()
    emulator = Emulator.build(store=path)
    seconds = time.perf_counter() - started
    gc.collect()
    held = _status()
    assert len(emulator.journal) == calls
    emulator.close()
    return {"seconds": seconds, "rss": held["VmRSS"] - base, "peak": held["VmHWM"] - base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("calls", type=int, nargs="?", default=300_000)
    parser.add_argument("--keep", type=Path, help="directory to keep the store in")
    parser.add_argument("--side", choices=("live", "restored"), help=argparse.SUPPRESS)  # one side, in a child
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        measure = live if args.side == "live" else restored
        print(json.dumps(measure(args.store, args.calls)))
        return
    directory = args.keep or Path(tempfile.mkdtemp(prefix="mockpipe-memory-"))
    store = directory / "journal.db"
    store.unlink(missing_ok=True)
    results = {}
    for side in ("live", "restored"):
        command = [sys.executable, __file__, str(args.calls), "--side", side, "--store", str(store)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[side] = json.loads(done.stdout.splitlines()[-1])
    mb = 1024 * 1024
    for side, result in results.items():
        print(
            f"{side:9} {args.calls:,} calls: {result['rss'] / mb:7.1f} MB resident after, "
            f"{result['peak'] / mb:7.1f} MB peak, {result['seconds']:.1f} s"
        )
    print(f"restored / live: {results['restored']['rss'] / results['live']['rss']:.2f} resident")
    print(f"store: {store} ({store.stat().st_size / mb:.0f} MB)")


if __name__ == "__main__":
    main()
