"""Bounded answers: every list of the inspection API is a page of at most `MAX_PAGE` items, with the
`total` of the whole match and the `next` cursor, in one shape; a long-poll for more calls than a page
answers a page, and ten giant long-polls neither take the memory of the journal nor stall the server."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockpipe.journal.queries import MAX_PAGE
from tests.conftest import Client, basic
from tests.support.serve_process import ServeProcess

PAGE_KEYS = {"count", "total", "next"}


def _batch(client: Client, count: int, *, key: str = "wk_test", start: int = 0, **fields: Any) -> None:
    for first in range(start, start + count, 500):
        batch = [
            {"type": "track", "userId": f"u{n % 7}", "event": f"E{n % 3}", **fields}
            for n in range(first, min(first + 500, start + count))
        ]
        assert client.post("/v1/batch", {"batch": batch}, key=key).status_code == 200


def test_a_limit_over_the_page_is_capped_and_next_leads_on(client: Client) -> None:
    _batch(client, MAX_PAGE + 50)
    first = client.get("/mockpipe/calls", limit=MAX_PAGE * 5).json()
    assert (first["count"], first["total"]) == (MAX_PAGE, MAX_PAGE + 50)
    assert first["next"] == first["calls"][-1]["id"]
    rest = client.get("/mockpipe/calls", limit=MAX_PAGE * 5, after=first["next"]).json()
    assert (rest["count"], rest["total"], rest["next"]) == (50, MAX_PAGE + 50, None)
    unbounded = client.get("/mockpipe/calls").json()  # no limit: a page all the same
    assert unbounded["count"] == MAX_PAGE and unbounded["next"] is not None
    requests = client.get("/mockpipe/requests", limit=2).json()
    assert (requests["count"], requests["total"]) == (2, 3) and requests["next"] == requests["requests"][1]["id"]


def test_every_list_has_the_same_page_shape(client: Client) -> None:
    _batch(client, 3)
    client.post("/v1/group", {"userId": "u1", "groupId": "g1", "objectTypeId": "1"})
    lists = {
        "/mockpipe/calls": "calls",
        "/mockpipe/calls/wait": "calls",
        "/mockpipe/requests": "requests",
        "/mockpipe/people": "people",
        "/mockpipe/objects": "objects",
    }
    for path, items in lists.items():
        answer = client.get(path, limit=1).json()
        assert PAGE_KEYS | {items} <= set(answer), path
        assert answer["count"] == len(answer[items]) == 1, path
        assert answer["total"] >= 1 and (answer["next"] is None) == (answer["total"] == 1), path


def test_total_counts_the_whole_match_whatever_the_cursor(client: Client) -> None:
    _batch(client, 30)
    _batch(client, 12, key="other")
    answer = client.get("/mockpipe/calls", writeKey="wk_test", event="E1", limit=2).json()
    assert (answer["count"], answer["total"]) == (2, 10)
    later = client.get("/mockpipe/calls", writeKey="wk_test", event="E1", limit=2, after=answer["next"]).json()
    assert later["total"] == 10
    _batch(client, 3, start=30)  # the kept count is brought up to date
    assert client.get("/mockpipe/calls", writeKey="wk_test", event="E1", limit=0).json()["total"] == 11
    assert client.get("/mockpipe/calls", type="track").json()["total"] == 45
    assert client.get("/mockpipe/calls", writeKey="other").json()["total"] == 12
    assert client.get("/mockpipe/requests", writeKey="other").json()["total"] == 1
    client.http.delete("/mockpipe/calls", params={"writeKey": "other"})
    assert client.get("/mockpipe/calls", type="track").json()["total"] == 33


def test_a_wait_for_more_than_a_page_answers_a_page_once_count_calls_match(client: Client) -> None:
    _batch(client, MAX_PAGE + 200)
    answer = client.get("/mockpipe/calls/wait", count=MAX_PAGE + 100, timeout=2).json()
    assert answer["timedOut"] is False
    assert (answer["count"], answer["total"]) == (MAX_PAGE, MAX_PAGE + 200)
    assert answer["next"] == answer["calls"][-1]["id"]
    short = client.get("/mockpipe/calls/wait", count=10**9, timeout=0.2).json()
    assert (short["timedOut"], short["count"]) == (True, MAX_PAGE)
    few = client.get("/mockpipe/calls/wait", count=1, timeout=1, event="E0", limit=5000).json()
    assert few["count"] == few["total"] == (MAX_PAGE + 200 + 2) // 3 and few["next"] is None


def _vm_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_ten_giant_waits_keep_a_page_and_leave_health_answering(tmp_path: Path) -> None:
    """Scaled down from ten `count=1000000000&timeout=5` waits on 300k calls (MOCKPIPE_GIANT_WAIT_CALLS
    sets the journal's size, to measure the full case by hand)."""
    calls = int(os.environ.get("MOCKPIPE_GIANT_WAIT_CALLS", "20000"))
    timeout = float(os.environ.get("MOCKPIPE_GIANT_WAIT_TIMEOUT", "2"))
    serve = ServeProcess(cwd=str(tmp_path))
    try:
        with httpx.Client(base_url=serve.url, timeout=60) as http:
            for first in range(0, calls, 500):
                batch = [
                    {"type": "track", "userId": f"u{n}", "event": "Filler", "properties": {"n": n, "pad": "x" * 200}}
                    for n in range(first, min(first + 500, calls))
                ]
                assert http.post("/v1/batch", json={"batch": batch}, headers=basic("k")).status_code == 200
            before_kb = _vm_peak_kb(serve.process.pid)
            idle = _health_latencies(http, 1.0)  # what this machine's load alone costs
            answers: list[dict[str, Any]] = []

            def wait() -> None:
                with httpx.Client(base_url=serve.url, timeout=60) as own:
                    answers.append(own.get("/mockpipe/calls/wait", params={"count": 10**9, "timeout": timeout}).json())

            waits = [threading.Thread(target=wait) for _ in range(10)]
            for thread in waits:
                thread.start()
            latencies = _health_latencies(http, None, waits)
            for thread in waits:
                thread.join()
            grown_mb = (_vm_peak_kb(serve.process.pid) - before_kb) / 1024
    finally:
        serve.stop()
    assert len(answers) == 10
    assert all(a["timedOut"] and a["count"] == MAX_PAGE and a["total"] == calls for a in answers)
    slowest, idle_slowest = max(latencies), max(idle)
    print(
        f"{calls} calls: peak grew {grown_mb:.0f} MB, "
        f"slowest health {slowest * 1000:.0f} ms (idle {idle_slowest * 1000:.0f})"
    )
    assert grown_mb < 100, f"ten waits took {grown_mb:.0f} MB more"
    # Counted, not timed (a loaded machine adds delays of its own; scripts/giant_waits.py measures the
    # latency by hand): the waits last `timeout` seconds, and health is asked every 20 ms meanwhile. A
    # server the waits held would answer it a few times in all; a free one answers it again and again.
    assert len(latencies) >= 10 * timeout, f"health answered {len(latencies)} times during {timeout:g} s of waits"


def _health_latencies(
    http: httpx.Client, seconds: float | None, threads: list[threading.Thread] | None = None
) -> list[float]:
    """How long each health check took, for `seconds` or while any of `threads` runs."""
    latencies: list[float] = []
    end = time.monotonic() + (seconds or 0)
    while (threads and any(thread.is_alive() for thread in threads)) or (seconds and time.monotonic() < end):
        started = time.monotonic()
        assert http.get("/mockpipe/health").status_code == 200
        latencies.append(time.monotonic() - started)
        time.sleep(0.02)
    return latencies
