"""Ingest with a tracking plan beside ingest without one, in the same run (`mockpipe bench`).

The plan plans 50 events (every call of the benchmark's scenarios, and 48 more), so each call is
checked by the plan's fast lane after the spec's and counted for coverage, as a server started with
`--plan` does. The two configurations take turns, each keeping its best round, and rates are per
second of this process's CPU time: on a shared machine a neighbour's burst must not pass for the
plan's cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mockpipe.bench.scenarios import AUTHORIZATION, SCENARIOS
from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.ingest import Ingest
from mockpipe.journal.journal import Journal
from mockpipe.plans import Plan, PlanChecker, plan_from_data
from mockpipe.plans.registry import PlanRegistry

PLAN_RATIO_TARGET = 0.8  # ingest with a 50-event plan, over ingest without one (issue 14)
_HEADERS = {b"authorization": AUTHORIZATION.encode(), b"content-type": b"application/json"}

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


@dataclass(frozen=True, slots=True)
class PlanRates:
    """`Ingest.handle` rates without HTTP, with and without a 50-event plan."""

    single_per_s: float  # single track calls per second, no plan
    single_with_plan_per_s: float
    batch_events_per_s: float  # calls per second in 100-event batches, no plan
    batch_events_with_plan_per_s: float
    plan_events: int
    compile_ms: float  # compiling the plan's schemas once

    @property
    def single_ratio(self) -> float:
        return self.single_with_plan_per_s / self.single_per_s if self.single_per_s else 0.0

    @property
    def batch_ratio(self) -> float:
        return self.batch_events_with_plan_per_s / self.batch_events_per_s if self.batch_events_per_s else 0.0


def _bodies(name: str) -> Iterator[bytes]:
    parts = SCENARIOS[name].parts()
    number = 0
    while True:
        number += 1
        yield f"{number:014d}".encode().join(parts)


def _rate(function: Callable[[], Any], seconds: float, per_call: int = 1) -> float:
    """Calls per second of this process's CPU time: what other processes take of a shared machine
    does not count against either configuration."""
    count, began, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        for _ in range(20):
            function()
        count += 20
        if time.perf_counter() - began >= seconds:
            return count * per_call / max(time.process_time() - cpu, 1e-9)


def plan_rates(seconds: float = 2.0, rounds: int = 4) -> PlanRates:
    """Ingest rates of the single and batch scenarios without a plan and with `fifty_event_plan()`."""
    plan = fifty_event_plan()
    began = time.perf_counter()
    PlanChecker(plan)
    compile_ms = 1000 * (time.perf_counter() - began)
    best: dict[tuple[bool, str], float] = {}
    for _ in range(rounds):
        for planned in (False, True):
            plans = PlanRegistry()
            if planned:
                plans.set(plan)
            ingest = Ingest(ServerConfig(), Journal(max_calls=1000), plans=plans)
            for name in ("single", "batch"):
                bodies = _bodies(name)
                path = SCENARIOS[name].path

                def one(ingest: Ingest = ingest, bodies: Iterator[bytes] = bodies, path: str = path) -> None:
                    status, answer = ingest.handle("POST", path, _HEADERS, next(bodies), False)
                    if status != 200:
                        raise RuntimeError(f"ingest answered {status}: {answer[:200]!r}")

                one()
                if planned and any(call.violations for call in ingest.journal.calls()):
                    found = [v.to_dict() for c in ingest.journal.calls() for v in c.violations]
                    raise RuntimeError(f"the benchmark's calls break its plan: {found[:3]}")
                rate = _rate(one, seconds / rounds / 2, SCENARIOS[name].events)
                best[planned, name] = max(best.get((planned, name), 0.0), rate)
    return PlanRates(
        single_per_s=best[False, "single"],
        single_with_plan_per_s=best[True, "single"],
        batch_events_per_s=best[False, "batch"],
        batch_events_with_plan_per_s=best[True, "batch"],
        plan_events=len(plan.events),
        compile_ms=compile_ms,
    )
