"""Speed of plan checking: `python -m tests.plans.bench_plans` (not collected by pytest).

Prints the checker's rate on the benchmark's valid calls with a 50-event plan, and the in-process
ingest rates with that plan and without one (`mockpipe.bench.plan_rates`, what `mockpipe bench` reports).
"""

from __future__ import annotations

import time

import orjson

from mockpipe.bench.plan_rates import fifty_event_plan, plan_rates
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.plans import PlanChecker


def main(seconds: float = 3.0) -> None:
    checker = PlanChecker(fifty_event_plan())
    batch = orjson.loads(SCENARIOS["batch"].body(b"00000000000001"))["batch"]
    single = orjson.loads(SCENARIOS["single"].body(b"00000000000001"))
    calls = [(call["type"], call) for call in batch] + [("track", single)]
    assert all(checker.check(kind, call) == [] for kind, call in calls), "the benchmark's calls break the plan"
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        for kind, call in calls:
            checker.check(kind, call)
        count += len(calls)
    print(f"checker, valid calls: {count / (time.perf_counter() - began):,.0f} calls/s")
    rates = plan_rates(seconds * 2, rounds=6)
    single_rates = f"{rates.single_per_s:,.0f} / {rates.single_with_plan_per_s:,.0f}"
    print(f"ingest single, without / with the plan: {single_rates} calls/s ({rates.single_ratio:.2f}x)")
    batch_rates = f"{rates.batch_events_per_s:,.0f} / {rates.batch_events_with_plan_per_s:,.0f}"
    print(f"ingest batch, without / with the plan: {batch_rates} events/s ({rates.batch_ratio:.2f}x)")


if __name__ == "__main__":
    main()
