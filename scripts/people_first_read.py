"""How long the people model's first read takes after a burst of calls (issue 17), measured by hand.

    python scripts/people_first_read.py                  # 100,000 calls in batches of 100, 5 runs
    python scripts/people_first_read.py --calls 20000 --kind single --runs 3
    python scripts/people_first_read.py --profile        # cProfile of one first read, top 25 lines

The calls are the bench's (`mockpipe.bench.scenarios`): batches of 100 tracks, identifies (with
traits) and pages, or single ~600 B track calls, each with a messageId of its own and a userId out
of `--people` distinct ones. They go through the real ingest path (`Ingest.handle`) into a `Journal`
that a `People` model follows, as in the emulator; the journal is brought up to date by a query
before the clock starts, so the figure is the people model's own catch-up, then the read of its
first page (`people_page()`, what `GET /mockpipe/people` does).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time

import orjson

from mockpipe.bench.scenarios import AUTHORIZATION, BATCH_SIZE, batch_item, track_call
from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.ingest import Ingest
from mockpipe.journal.journal import Journal
from mockpipe.people.model import People

_HEADERS = {b"authorization": AUTHORIZATION.encode(), b"content-type": b"application/json"}


def _bodies(calls: int, kind: str, people: int) -> list[tuple[str, bytes]]:
    """(path, body) of the requests that send `calls` calls, each messageId new."""
    if kind == "single":
        out = []
        for number in range(calls):
            call = track_call(number % people)
            call["messageId"] = f"m-{number:09d}"
            out.append(("/v1/track", orjson.dumps(call)))
        return out
    bodies = []
    for start in range(0, calls, BATCH_SIZE):
        items = []
        for number in range(start, min(calls, start + BATCH_SIZE)):
            item = batch_item(number % people)
            item["messageId"] = f"m-{number:09d}"
            items.append(item)
        bodies.append(("/v1/batch", orjson.dumps({"batch": items, "sentAt": "2026-01-02T03:04:05.678Z"})))
    return bodies


def filled(calls: int, kind: str, people: int) -> tuple[Journal, People]:
    """A journal holding `calls` calls, and a people model following it that has read none yet."""
    journal = Journal()
    model = People.from_journal(journal)
    ingest = Ingest(ServerConfig(), journal)
    for path, body in _bodies(calls, kind, people):
        status, answer = ingest.handle("POST", path, _HEADERS, body, False)
        if status != 200:
            raise RuntimeError(f"ingest answered {status}: {answer!r}")
    journal.calls(limit=1)  # the journal's own catch-up, if it has one, outside the figure
    return journal, model


def first_read(model: People) -> tuple[float, float]:
    """Seconds the first page of people takes to read: wall clock, and CPU time of this process (what
    other processes on a loaded machine take away from the first, not from the second)."""
    started, cpu = time.perf_counter(), time.process_time()
    page = model.people_page()
    took, cpu_took = time.perf_counter() - started, time.process_time() - cpu
    if not page.items:
        raise RuntimeError("the model found nobody")
    return took, cpu_took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--kind", choices=("batch", "single"), default="batch")
    parser.add_argument("--people", type=int, default=5_000, help="distinct userIds (default 5000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile one first read instead")
    args = parser.parse_args(argv)

    if args.profile:
        _, model = filled(args.calls, args.kind, args.people)
        profiler = cProfile.Profile()
        profiler.runcall(model.people_page)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return 0
    figures, cpu = [], []
    for _ in range(args.runs):
        journal, model = filled(args.calls, args.kind, args.people)
        gc.collect()
        took, cpu_took = first_read(model)
        figures.append(took)
        cpu.append(cpu_took)
        total = model.people_page().total
        model.detach()
        del journal, model
    print(
        f"{args.calls:,} {args.kind} calls, {total:,} people: first read median {statistics.median(figures):.3f} s"
        f" (runs: {', '.join(f'{f:.3f}' for f in figures)}), CPU median {statistics.median(cpu):.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
