"""The journal alone, fresh calls beside resends (`mockpipe bench`): what `Journal.record` costs per call
when every messageId is new, and when every call resends one already kept.

The calls are built from the benchmark's own bodies before the clock starts, so only the journal is
measured. The two kinds take turns, each keeping its best round, and rates are per second of this
process's CPU time: on a shared machine a neighbour's burst must not pass for the resends' cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson

from mockpipe.bench.scenarios import RESEND_ID, SCENARIOS, WRITE_KEY, Scenario
from mockpipe.journal.journal import Call, Journal, RequestRecord
from mockpipe.journal.packed import index_fields

RECEIVED_AT = "2026-01-02T03:04:05.678Z"
CALLS_PER_ROUND = 2_000  # built ahead, then recorded under the clock


@dataclass(frozen=True, slots=True)
class JournalRates:
    """Calls per CPU second `Journal.record` takes in, by scenario and traffic."""

    single_fresh_per_s: float
    single_resend_per_s: float
    batch_fresh_per_s: float  # calls (batch items) per second
    batch_resend_per_s: float

    @property
    def single_ratio(self) -> float:
        """Resends over fresh calls (1: a resend costs what a fresh call does)."""
        return self.single_resend_per_s / self.single_fresh_per_s if self.single_fresh_per_s else 0.0

    @property
    def batch_ratio(self) -> float:
        return self.batch_resend_per_s / self.batch_fresh_per_s if self.batch_fresh_per_s else 0.0


def _requests(
    journal: Journal, scenario: Scenario, count: int, first: int, resend: bool
) -> list[tuple[RequestRecord, list[Call]]]:
    """`count` requests of `scenario` as the journal gets them: fresh ids from `first` on, or one id."""
    parts = scenario.parts()
    out = []
    for number in range(first, first + count):
        body = orjson.loads(RESEND_ID.join(parts) if resend else f"{number:018d}".encode().join(parts))
        items = body["batch"] if scenario.events > 1 else [body]
        request_id = journal.next_request_id()
        calls = [
            Call(
                journal.next_call_id(),
                request_id,
                WRITE_KEY,
                item.get("type", "track"),
                RECEIVED_AT,
                "us",
                scenario.path,
                True,
                True,
                (),
                *index_fields(item),
                orjson.dumps(item),
            )
            for item in items
        ]
        request = RequestRecord(
            request_id, RECEIVED_AT, "POST", scenario.path, WRITE_KEY, "basic", 200, True, None, None, (),
            tuple(call.id for call in calls), len(parts[0]), None, None, None,
        )  # fmt: skip
        out.append((request, calls))
    return out


def _round(scenario: Scenario, resend: bool, seconds: float) -> float:
    """Calls per CPU second of `Journal.record` over about `seconds` of recording."""
    journal = Journal()
    requests_per_batch = max(1, CALLS_PER_ROUND // scenario.events)
    recorded = 0
    spent = 0.0
    number = 1
    if resend:  # the first copy is kept before the clock starts: every call measured is a resend
        for request, calls in _requests(journal, scenario, 1, 0, True):
            journal.record(request, calls)
    while spent < seconds:
        work = _requests(journal, scenario, requests_per_batch, number, resend)
        number += requests_per_batch
        began = time.process_time()
        for request, calls in work:
            journal.record(request, calls)
        spent += time.process_time() - began
        recorded += requests_per_batch * scenario.events
    return recorded / max(spent, 1e-9)


def journal_rates(seconds: float = 1.0, rounds: int = 3) -> JournalRates:
    """Fresh and resent calls per CPU second of `Journal.record`, for single calls and batches."""
    best: dict[tuple[str, bool], float] = {}
    for _ in range(rounds):
        for name in ("single", "batch"):
            for resend in (False, True):
                rate = _round(SCENARIOS[name], resend, seconds / rounds / 4)
                best[name, resend] = max(best.get((name, resend), 0.0), rate)
    return JournalRates(best["single", False], best["single", True], best["batch", False], best["batch", True])
