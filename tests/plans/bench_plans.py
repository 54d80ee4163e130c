"""Speed of plan checking: `python -m tests.plans.bench_plans` (not collected by pytest).

Prints the checker's rate on valid calls with a 50-event plan, and the in-process ingest rate of
`mockpipe bench`'s single and batch scenarios without a plan and with one, the plan's fast lane run
where the wiring will run it (after the spec's fast lane, for every call).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from mockpipe.bench.scenarios import AUTHORIZATION, SCENARIOS
from mockpipe.plans import Plan, PlanChecker, plan_from_data

STRING = {"type": "string"}
NUMBER = {"type": "number", "minimum": 0}


def fifty_event_plan() -> Plan:
    """A 50-event plan that plans every call of the benchmark's scenarios, and 46 events more."""
    track: dict[str, Any] = {
        "Order Completed": {
            "properties": {
                "type": "object",
                "properties": {
                    "order_id": STRING,
                    "revenue": NUMBER,
                    "currency": {"enum": ["USD", "EUR"]},
                    "coupon": {"type": ["string", "null"]},
                    "products": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"sku": STRING, "name": STRING, "price": NUMBER, "qty": {"type": "integer"}},
                            "required": ["sku"],
                        },
                    },
                },
                "required": ["order_id", "revenue"],
            }
        },
        "Product Viewed": {
            "properties": {
                "type": "object",
                "properties": {
                    "product_id": STRING,
                    "name": STRING,
                    "price": NUMBER,
                    "currency": {"enum": ["USD", "EUR"]},
                    "category": STRING,
                },
                "required": ["product_id"],
            }
        },
    }
    for number in range(48):
        track[f"Filler Event {number}"] = {
            "properties": {"type": "object", "properties": {"id": STRING, "amount": NUMBER}, "required": ["id"]}
        }
    return plan_from_data(
        {
            "mockpipe_plan": 1,
            "$schema": "http://json-schema.org/draft-07/schema#",
            "track": track,
            "page": {
                "Product": {
                    "properties": {"type": "object", "properties": {"path": STRING, "url": STRING, "title": STRING}}
                }
            },
            "identify": {
                "traits": {
                    "type": "object",
                    "properties": {
                        "email": {"type": "string", "format": "email"},
                        "name": STRING,
                        "plan": {"enum": ["free", "pro"]},
                        "createdAt": {"type": "string", "format": "date-time"},
                    },
                    "required": ["email"],
                }
            },
        },
        file="bench",
    )


def _rate(function: Callable[[], Any], seconds: float, per_call: int = 1) -> float:
    best = 0.0
    for _ in range(3):
        count, began = 0, time.perf_counter()
        while (now := time.perf_counter()) - began < seconds / 3:
            for _ in range(20):
                function()
            count += 20
        best = max(best, count * per_call / (now - began))
    return best


def main(seconds: float = 3.0, rounds: int = 6) -> None:
    from mockpipe.bench import microbench
    from mockpipe.emulator.config import ServerConfig
    from mockpipe.emulator.ingest import Ingest
    from mockpipe.journal.journal import Journal
    from mockpipe.spec import validator as lane_module

    began = time.perf_counter()
    checker = PlanChecker(fifty_event_plan())
    print(f"compile a 50-event plan: {1000 * (time.perf_counter() - began):.1f} ms")

    batch = orjson.loads(SCENARIOS["batch"].body(b"00000000000001"))["batch"]
    single = orjson.loads(SCENARIOS["single"].body(b"00000000000001"))
    calls = [(call["type"], call) for call in batch] + [("track", single)]
    assert all(checker.check(kind, call) == [] for kind, call in calls), "the benchmark's calls break the plan"
    index = iter(range(1 << 62))

    def check_one() -> None:
        kind, call = calls[next(index) % len(calls)]
        checker.check(kind, call)

    print(f"checker, valid calls: {_rate(check_one, seconds):,.0f} calls/s")

    headers = {b"authorization": AUTHORIZATION.encode(), b"content-type": b"application/json"}
    original = lane_module.proves_clean

    def with_plan(call_type: str, call: Any, **kwargs: Any) -> bool:
        return original(call_type, call, **kwargs) and checker.is_clean(call_type, call)

    # Rounds alternate, and each configuration keeps its best round: the machine is shared, and a
    # neighbour's burst must not pass for the plan's cost.
    results: dict[str, dict[str, float]] = {"without plan": {}, "with plan": {}}
    for _ in range(rounds):
        for label, lane in (("without plan", original), ("with plan", with_plan)):
            lane_module.proves_clean = lane  # violations_of looks it up here
            ingest = Ingest(ServerConfig(), Journal(max_calls=1000))
            bodies = {name: microbench._bodies(scenario) for name, scenario in SCENARIOS.items()}

            def one(name: str, ingest: Ingest = ingest, bodies: dict[str, Any] = bodies) -> None:
                status, _ = ingest.handle("POST", SCENARIOS[name].path, headers, next(bodies[name]), False)
                assert status == 200

            figures = results[label]
            single = _rate(lambda: one("single"), seconds / rounds)
            batch = _rate(lambda: one("batch"), seconds / rounds, SCENARIOS["batch"].events)
            figures["single"] = max(figures.get("single", 0.0), single)
            figures["batch"] = max(figures.get("batch", 0.0), batch)
    lane_module.proves_clean = original
    for label, figures in results.items():
        print(f"ingest {label}: single {figures['single']:,.0f} calls/s, batch {figures['batch']:,.0f} events/s")
    for key in ("single", "batch"):
        print(f"ratio with/without plan, {key}: {results['with plan'][key] / results['without plan'][key]:.2f}x")


if __name__ == "__main__":
    main()
