"""Ingest with and without a 50-event plan: the plan plans every call of the benchmark (so the figure is
the fast lane's), and a short run gives every figure."""

from __future__ import annotations

import orjson

from mockpipe.bench.plan_rates import fifty_event_plan, plan_rates
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.plans import PlanChecker


def test_the_plan_has_fifty_events_and_passes_every_call_of_the_scenarios() -> None:
    plan = fifty_event_plan()
    assert len(plan.events) == 50
    checker = PlanChecker(plan)
    batch = orjson.loads(SCENARIOS["batch"].body(b"00000000000001"))["batch"]
    single = orjson.loads(SCENARIOS["single"].body(b"00000000000001"))
    for call_type, call in [(call["type"], call) for call in batch] + [("track", single)]:
        assert checker.is_clean(call_type, call) and checker.report(call_type, call) == []


def test_a_short_run_gives_every_rate() -> None:
    rates = plan_rates(0.2, rounds=1)
    assert rates.plan_events == 50 and rates.compile_ms > 0
    assert min(rates.single_per_s, rates.single_with_plan_per_s) > 0
    assert min(rates.batch_events_per_s, rates.batch_events_with_plan_per_s) > 0
    assert rates.single_ratio > 0 and rates.batch_ratio > 0
