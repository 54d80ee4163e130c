"""The live feed in-process: bounded per-client queues, and calls recorded from other threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson

from mockpipe.emulator.live_feed import LiveEvent, LiveFeed
from mockpipe.journal.journal import Call, Journal, RequestRecord


def record(journal: Journal, event: str, *, write_key: str = "k", accepted: bool = True) -> None:
    request_id = journal.next_request_id()
    call = Call(
        journal.next_call_id(),
        request_id,
        write_key,
        "track",
        "2026-01-01T00:00:00.000Z",
        "us",
        "/v1/track",
        True,
        True,
        (),
        f"m-{request_id}",
        "u1",
        None,
        event,
        None,
        orjson.dumps({"type": "track", "userId": "u1", "event": event, "messageId": f"m-{request_id}"}),
    )
    journal.record(
        RequestRecord(
            request_id,
            call.received_at,
            "POST",
            "/v1/track",
            write_key,
            "basic",
            200 if accepted else 400,
            accepted,
            None if accepted else "spec.violation",
            None,
            (),
            (call.id,),
            10,
            None,
            None,
            None,
        ),
        [call],
    )


def parse(event: LiveEvent) -> tuple[str, dict[str, Any]]:
    return event.kind, orjson.loads(event.data)


def test_a_client_that_lags_too_far_is_cut_off() -> None:
    journal = Journal()
    feed = LiveFeed(journal)
    feed.QUEUE_SIZE = 3

    async def scenario() -> list[LiveEvent]:
        stream = feed.stream()
        hello = await anext(stream)
        assert hello.kind == "hello"
        for i in range(5):  # more than the queue holds, while the client reads nothing
            record(journal, f"e{i}")
        return [chunk async for chunk in stream]

    assert asyncio.run(scenario()) == []  # the stream ends: the browser reconnects for a fresh hello
    assert feed.clients == 0


def test_calls_recorded_from_another_thread_arrive_once() -> None:
    journal = Journal()
    feed = LiveFeed(journal)

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        stream = feed.stream()
        hello = parse(await anext(stream))
        assert hello[1]["calls"] == []

        def send() -> None:
            for i in range(20):
                record(journal, f"e{i}")

        worker = threading.Thread(target=send)
        worker.start()
        received = [parse(await anext(stream)) for _ in range(20)]
        worker.join()
        feed.close()
        assert [chunk async for chunk in stream] == []
        return received

    received = asyncio.run(scenario())
    assert [data["event"] for _, data in received] == [f"e{i}" for i in range(20)]
    assert feed.clients == 0


def test_rejected_requests_are_streamed_and_nothing_is_built_without_clients() -> None:
    journal = Journal()
    feed = LiveFeed(journal)
    record(journal, "nobody listens")  # no client: nothing queued anywhere

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        stream = feed.stream()
        _, hello = parse(await anext(stream))
        assert [c["event"] for c in hello["calls"]] == ["nobody listens"]
        record(journal, "strict", accepted=False)
        found = [parse(await anext(stream)) for _ in range(2)]
        feed.close()
        return found

    (call_kind, _), (request_kind, request) = asyncio.run(scenario())
    assert (call_kind, request_kind, request["status"], request["reason"]) == ("call", "request", 400, "spec.violation")


def test_identify_and_group_rows_carry_a_name_to_show() -> None:
    from mockpipe.emulator.live_feed import display_name

    assert display_name("identify", {"traits": {"name": "Ann Lee", "email": "ann@example.com"}}) == "Ann Lee"
    assert display_name("identify", {"traits": {"email": "ann@example.com"}}) == "ann@example.com"
    assert display_name("identify", {"traits": {"firstName": "Ann", "lastName": "Lee"}}) == "Ann Lee"
    assert display_name("identify", {"context": {"traits": {"email": "c@example.com"}}}) == "c@example.com"
    assert display_name("identify", {"traits": {"name": 42}}) is None  # only text is shown
    assert display_name("identify", {"traits": "oops"}) is None
    assert display_name("group", {"groupId": "acme-1", "traits": {"name": "Acme"}}) == "Acme"
    assert display_name("group", {"groupId": "acme-1"}) == "acme-1"
    assert display_name("group", {"groupId": 7}) == "7"
    assert display_name("track", {"event": "E", "traits": {"name": "x"}}) is None
    assert display_name("identify", {"traits": {"name": "x" * 500}}) == "x" * 199 + "…"
