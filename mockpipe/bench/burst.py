"""The read after a burst (issue 17): how long the first read takes after 100,000 events nobody read.

A mockpipe server in a process of its own (one Hypercorn worker, as in the HTTP runs) gets 100-event
batches of fresh messageIds as fast as a few keep-alive connections can send them, each sending its
next batch as soon as the last one's 200 arrives, with no read of the journal in between. Then one
read is timed, from its request to the last byte of its answer: the first page of calls
(`GET /mockpipe/calls?limit=100`), or, in a fresh server after the same burst, the first page of
people (`GET /mockpipe/people?limit=100`, what the web UI's People tab asks first). A server that
answers before it has processed what it took pays for that processing in this first read.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import time
from dataclasses import dataclass
from typing import Any

import orjson

from mockpipe.bench.options import BenchError
from mockpipe.bench.scenarios import ID_WIDTH, SCENARIOS, Scenario, next_run, request_head
from mockpipe.bench.targets import HOST, TargetProcess

MB = 1024 * 1024
PAGE = 100  # what both reads ask for
# What is read after the burst: (name, path, the key of the answer's list).
READS = {
    "calls": (f"/mockpipe/calls?limit={PAGE}", "calls"),
    "people": (f"/mockpipe/people?limit={PAGE}", "people"),
}


@dataclass(frozen=True, slots=True)
class BurstRead:
    """One server's burst, and the first read after it."""

    read: str  # a key of READS
    path: str
    events: int  # calls sent (every one a fresh messageId)
    requests: int  # batches sent
    connections: int
    send_s: float  # from the first batch sent to the last 200
    read_s: float  # the first read: from its request to the end of its answer
    count: int  # items in that answer
    total: int  # the answer's `total`
    expected_total: int  # what `total` must be: the calls sent, or the people they name
    rss_after_mb: float  # the server's memory after the read

    @property
    def events_per_s(self) -> float:
        return self.events / self.send_s if self.send_s > 0 else 0.0

    @property
    def expected_count(self) -> int:
        """The items the answer's page must hold: a full page, or all there are."""
        return min(PAGE, self.expected_total)

    @property
    def complete(self) -> bool:
        """The answer holds what was sent: the page and the total expected (its target is in `report`)."""
        return self.total == self.expected_total and self.count == self.expected_count


@dataclass(frozen=True, slots=True)
class BurstReads:
    """The read-after-burst measure: the first page of calls, and the first page of people."""

    calls: BurstRead
    people: BurstRead


# -- sending ------------------------------------------------------------------------------------------


async def _answer_status(reader: asyncio.StreamReader) -> int:
    """Read one HTTP answer to its end; its status."""
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    at = head.find(b"content-length:")
    if at < 0:
        raise BenchError(f"the server answered without a Content-Length: {head[:200]!r}")
    await reader.readexactly(int(head[at + 15 : head.index(b"\r\n", at)]))
    return int(head[9:12])


async def _send_burst(scenario: Scenario, port: int, requests: int, connections: int) -> None:
    """`requests` bodies of `scenario`, each with ids of its own, over `connections` keep-alive
    connections that each send their next request when the last one's answer is in."""
    head = request_head(scenario, HOST, port)
    parts = scenario.parts()
    run = next_run()
    handed_out = itertools.count()  # shared by the connections: whoever is free sends the next one

    async def connection(number: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for sent in itertools.count():
                if next(handed_out) >= requests:
                    return
                request_id = f"{run:04d}{number % 100:02d}{sent:0{ID_WIDTH - 6}d}".encode()
                writer.write(head + request_id.join(parts))
                status = await _answer_status(reader)
                if status != 200:
                    raise BenchError(f"the burst's batch was answered {status}, not 200")
        finally:
            writer.close()

    await asyncio.gather(*(connection(number) for number in range(connections)))


# -- reading ------------------------------------------------------------------------------------------


def people_named(scenario: Scenario) -> int:
    """The people a burst of `scenario` makes: one per userId of its batch (every batch has the same)."""
    items = orjson.loads(scenario.body(b"0" * ID_WIDTH))["batch"]
    return len({item["userId"] for item in items})


def _timed_get(port: int, path: str) -> tuple[float, dict[str, Any]]:
    """GET `path` on a connection opened beforehand: seconds to the end of the answer, and its JSON."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        connection.connect()
        began = time.perf_counter()
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read()
        seconds = time.perf_counter() - began
    finally:
        connection.close()
    if answer.status != 200:
        raise BenchError(f"GET {path} after the burst answered {answer.status}: {body[:500]!r}")
    parsed: dict[str, Any] = orjson.loads(body)
    return seconds, parsed


def burst_then_read(read: str, *, events: int = 100_000, connections: int = 4) -> BurstRead:
    """Start a mockpipe server, send `events` calls in 100-event batches, and time the first `read`
    (a key of READS). `events` is rounded up to whole batches."""
    if read not in READS:
        raise ValueError(f"unknown read {read!r}; known: {', '.join(READS)}")
    if events <= 0 or connections <= 0:
        raise ValueError("a burst needs events and connections")
    scenario = SCENARIOS["batch"]
    requests = -(-events // scenario.events)
    path, key = READS[read]
    with TargetProcess("mockpipe") as server:
        server.wait_ready()
        began = time.perf_counter()
        asyncio.run(_send_burst(scenario, server.port, requests, min(connections, requests)))
        send_s = time.perf_counter() - began
        read_s, answer = _timed_get(server.port, path)
        rss = server.rss_bytes()
    sent = requests * scenario.events
    return BurstRead(
        read=read,
        path=path,
        events=sent,
        requests=requests,
        connections=min(connections, requests),
        send_s=send_s,
        read_s=read_s,
        count=len(answer.get(key) or ()),
        total=int(answer.get("total") or 0),
        expected_total=sent if read == "calls" else people_named(scenario),
        rss_after_mb=rss / MB,
    )


def burst_reads(events: int = 100_000, *, connections: int = 4) -> BurstReads:
    """Both reads, each in a fresh server after the same burst."""
    return BurstReads(
        calls=burst_then_read("calls", events=events, connections=connections),
        people=burst_then_read("people", events=events, connections=connections),
    )
