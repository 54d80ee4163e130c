"""A batch of many calls is cut and checked a slice at a time, letting the event loop serve others between
slices (issue 13: a 300 KB batch of 100,001 `{}` items held the loop for 5 s); the journal keeps the order
of its ids and a strict batch stays all-or-nothing."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import MutableMapping
from typing import Any

import orjson
import pytest

from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.ingest import Ingest
from mockpipe.emulator.slices import SLICE_ITEMS
from mockpipe.journal.journal import Journal

HEADERS = [(b"authorization", b"Basic " + base64.b64encode(b"k1:"))]


def _scope(path: str, headers: list[tuple[bytes, bytes]] = HEADERS) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


async def _post(ingest: Ingest, path: str, body: bytes, headers: list[tuple[bytes, bytes]] = HEADERS) -> int:
    """Send one request through `Ingest.respond` as the server would; its status."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await ingest.respond(_scope(path, headers), receive, send)
    status: int = sent[0]["status"]
    return status


def _track(n: int) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": f"u{n}",
        "event": "E",
        "messageId": f"m{n}",
        "timestamp": "2026-01-01T00:00:00.000Z",
    }


def test_the_loop_serves_others_while_a_long_batch_is_taken() -> None:
    # 100,001 empty items, as the attack run sent. A ticker task counts the turns of the loop while the
    # batch is taken: before, it got none (one synchronous run); its longest wait is measured against the
    # whole, not against a clock bound, so a loaded machine slows both alike.
    body = b'{"batch":[' + b"{}," * 100_000 + b"{}]}"
    ingest = Ingest(ServerConfig(), Journal())

    async def run() -> tuple[int, list[float], float, int]:
        ticks: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                ticks.append(time.perf_counter())
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        started = time.perf_counter()
        status = await _post(ingest, "/v1/batch", body)
        whole = time.perf_counter() - started
        done.set()
        await ticking
        # Meanwhile another client's call is taken too (journaled before the batch, whose ids come after).
        return status, [t for t in ticks if t >= started], whole, await _post(ingest, "/v1/track", b"{}")

    status, ticks, whole, _ = asyncio.run(run())
    assert status == 200
    assert len(ticks) >= 100_000 // SLICE_ITEMS, f"the loop turned {len(ticks)} times during the batch"
    longest = max(b - a for a, b in itertools.pairwise(ticks))
    assert longest < whole / 3, f"the loop waited {longest:.2f} s at once of the batch's {whole:.2f} s"
    assert len(ingest.journal) == 100_002


def test_calls_taken_during_a_long_batch_keep_the_journal_in_id_order() -> None:
    ingest = Ingest(ServerConfig(), Journal())
    batch = orjson.dumps({"batch": [_track(n) for n in range(3 * SLICE_ITEMS + 7)]})

    async def run() -> None:
        long = asyncio.create_task(_post(ingest, "/v1/batch", batch))
        await asyncio.sleep(0)  # the batch starts, and stops after its first slice
        singles = [await _post(ingest, "/v1/track", orjson.dumps(_track(10**6 + n))) for n in range(3)]
        assert singles == [200] * 3
        assert not long.done(), "the batch was taken in one go"
        assert await long == 200

    asyncio.run(run())
    requests = ingest.journal.requests()
    assert [r.id for r in requests] == [1, 2, 3, 4]  # taken as journaled: the singles came first
    assert [len(r.call_ids) for r in requests] == [1, 1, 1, 3 * SLICE_ITEMS + 7]
    calls = ingest.journal.calls()
    assert [c.id for c in calls] == list(range(1, len(calls) + 1))
    assert [c.user_id for c in calls[3:]] == [f"u{n}" for n in range(3 * SLICE_ITEMS + 7)]
    assert all(c.request_id == 4 for c in calls[3:])


def test_a_strict_long_batch_is_all_or_nothing_with_its_violations_where_they_are() -> None:
    items: list[Any] = [_track(n) for n in range(3 * SLICE_ITEMS)]
    items[2 * SLICE_ITEMS + 5] = {"type": "track", "event": "E"}  # an error (no id) in the third slice
    items[SLICE_ITEMS + 1] = "not an object"  # an envelope error in the second
    ingest = Ingest(ServerConfig(strict=True), Journal())
    status, answer = ingest.handle("POST", "/v1/batch", dict(HEADERS), orjson.dumps({"batch": items}), False)
    assert status == 400
    paths = [v["path"] for v in orjson.loads(answer)["violations"]]
    assert paths[0] == f"/batch/{SLICE_ITEMS + 1}"  # the envelope's first, as for a short batch
    assert f"/batch/{2 * SLICE_ITEMS + 5}/userId" in paths
    calls = ingest.journal.calls()
    assert len(calls) == 3 * SLICE_ITEMS - 1 and not any(c.accepted for c in calls)


def test_a_long_batch_is_taken_as_it_was_in_one_go(monkeypatch: pytest.MonkeyPatch) -> None:
    items: list[Any] = [_track(n) for n in range(2 * SLICE_ITEMS + 3)]
    items[5] = {"type": "track", "event": "no id"}
    items[SLICE_ITEMS + 2] = 3
    items[-1] = {"type": "nonsense"}
    body = orjson.dumps({"batch": items, "context": {"library": {"name": "x"}}, "sentAt": "2026-01-01T00:00:00Z"})

    def take() -> tuple[tuple[int, bytes], list[tuple[Any, ...]]]:
        ingest = Ingest(ServerConfig(strict=True), Journal())
        answer = ingest.handle("POST", "/v1/batch", dict(HEADERS), body, False)
        (request,) = ingest.journal.requests()
        calls = [(c.type, c.valid, c.accepted, c.violations, c.user_id, c.request_id) for c in ingest.journal.calls()]
        return answer, [*calls, (request.violations, request.message)]

    sliced = take()
    monkeypatch.setattr("mockpipe.emulator.ingest.SLICE_ITEMS", 10**9)  # in one go
    assert take() == sliced
