"""The read after a burst: a real server takes a small burst, and the first read sees all of it.
Sizes are small so that the tests stay quick; timings are reported, never asserted."""

from __future__ import annotations

import asyncio

import pytest

from mockpipe.bench import burst
from mockpipe.bench.burst import BurstRead, BurstReads, burst_then_read
from mockpipe.bench.options import BenchError, BenchOptions
from mockpipe.bench.report import BenchReport
from mockpipe.bench.runner import format_report
from mockpipe.bench.scenarios import SCENARIOS, Scenario
from mockpipe.bench.targets import TargetProcess


def test_the_first_page_of_calls_after_a_burst_holds_every_call_sent() -> None:
    read = burst_then_read("calls", events=1_000, connections=3)
    assert (read.events, read.requests, read.connections) == (1_000, 10, 3)
    assert (read.count, read.total, read.expected_total) == (100, 1_000, 1_000)
    assert read.complete and read.path == "/mockpipe/calls?limit=100"
    assert read.send_s > 0 and read.read_s > 0 and read.events_per_s > 0 and read.rss_after_mb > 0


def test_the_first_page_of_people_after_a_burst_holds_the_people_it_names() -> None:
    # A part of a batch is sent as a whole one: the events are rounded up to whole batches.
    read = burst_then_read("people", events=150, connections=8)
    assert (read.events, read.requests, read.connections) == (200, 2, 2)
    assert read.expected_total == burst.people_named(SCENARIOS["batch"]) == 100  # one per userId of a batch
    assert (read.count, read.total) == (100, 100) and read.complete


def test_every_batch_of_the_burst_has_ids_of_its_own() -> None:
    with TargetProcess("mockpipe") as server:
        server.wait_ready()
        asyncio.run(burst._send_burst(SCENARIOS["batch"], server.port, 7, 3))
        _, first_calls = burst._timed_get(server.port, "/mockpipe/calls?limit=1")
        _, with_resends = burst._timed_get(server.port, "/mockpipe/calls?limit=1&duplicates=true")
    # Resends would count with `duplicates=true` only: none of the burst's calls is a resend of another.
    assert first_calls["total"] == with_resends["total"] == 700


def test_a_refused_batch_stops_the_burst() -> None:
    # Permissive mode answers 200 to nearly anything; an unknown endpoint is refused even so.
    refused = Scenario("batch", "/v1/nowhere", 1, b'{"messageId": "@ID@"}')
    with TargetProcess("mockpipe") as server:
        server.wait_ready()
        with pytest.raises(BenchError, match="answered 404"):
            asyncio.run(burst._send_burst(refused, server.port, 3, 1))


def test_unknown_reads_and_empty_bursts_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown read"):
        burst_then_read("objects", events=100)
    with pytest.raises(ValueError, match="events and connections"):
        burst_then_read("calls", events=0)


def _read(name: str, *, read_s: float, count: int = 100, total: int = 100_000) -> BurstRead:
    return BurstRead(
        read=name,
        path=burst.READS[name][0],
        events=100_000,
        requests=1_000,
        connections=4,
        send_s=2.0,
        read_s=read_s,
        count=count,
        total=total,
        expected_total=100_000 if name == "calls" else 100,
        rss_after_mb=100.0,
    )


def test_each_read_is_a_target_met_only_when_quick_and_complete() -> None:
    report = BenchReport(
        BenchOptions.quick(),
        "builtin",
        burst=BurstReads(calls=_read("calls", read_s=0.25), people=_read("people", read_s=1.5, total=100)),
    )
    calls, people = report.checks()
    assert (calls.figure, calls.measured, calls.target, calls.status) == (
        "first GET /mockpipe/calls?limit=100 after a burst of 100,000 events",
        "0.250 s",
        "< 1 s",
        "met",
    )
    assert (people.figure, people.status) == (
        "first GET /mockpipe/people?limit=100 after a burst of 100,000 events",
        "NOT MET",
    )
    # Quick but short of what was sent: missed, and the table says what was missing.
    short = BenchReport(
        BenchOptions.quick(),
        "builtin",
        burst=BurstReads(
            calls=_read("calls", read_s=0.1, count=40, total=40), people=_read("people", read_s=0.1, total=100)
        ),
    )
    calls, people = short.checks()
    assert calls.status == "NOT MET" and calls.measured == "0.100 s, but 40 calls of 40 (expected 100 of 100,000)"
    assert people.status == "met"

    table = " ".join(format_report(report).split())
    assert "| first GET /mockpipe/calls?limit=100 after a burst of 100,000 events | 0.250 s | < 1 s | met |" in table
    assert (
        "| burst before the first reads: 100,000 events in 1,000 batches, events/s | 50,000 / 50,000 (calls / people) |"
        in table
    )
    parts = report.to_dict()["burst"]
    assert parts["calls"]["read_s"] == 0.25 and parts["calls"]["complete"] is True
    assert parts["people"]["events_per_s"] == 50_000 and parts["people"]["expected_total"] == 100


def test_a_run_without_the_burst_has_no_such_rows() -> None:
    report = BenchReport(BenchOptions.quick(burst_events=0), "builtin")
    assert report.checks() == [] and report.to_dict()["burst"] is None
    assert "burst" not in format_report(report)
