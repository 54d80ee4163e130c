"""A listing of N calls parses their JSON at most N times: the journal's reads, the inspection API's
`/mockpipe/calls`, `/calls/wait` and `/calls/{id}`, and the fixture's payloads.

Reading a call back parses its JSON to rebuild its index fields; the call carries that parse to its
first `payload` (and `to_dict()`), so a listing does not parse it again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from pytest_mockpipe.fixture import MockPipe

from mockpipe.emulator.app import create_app
from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.server import MockPipeServer
from mockpipe.journal.journal import Journal

N = 7
KEY = "wk_parses"
AUTH = {"Authorization": "Basic d2tfcGFyc2VzOg=="}  # wk_parses:


class Parses:
    """Counts `orjson.loads` calls (patched where every mockpipe module looks it up: on orjson)."""

    def __init__(self) -> None:
        self.count = 0
        self.counting = False

    def __enter__(self) -> Parses:
        self.count, self.counting = 0, True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.counting = False


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Parses]:
    counter = Parses()
    loads: Callable[[Any], Any] = orjson.loads

    def counting(data: Any) -> Any:
        counter.count += counter.counting
        return loads(data)

    monkeypatch.setattr(orjson, "loads", counting)
    yield counter


def _payload(number: int) -> dict[str, Any]:
    return {"userId": f"u{number}", "event": "Listed", "properties": {"n": number, "tags": ["a", "b"]}}


async def _filled_app() -> tuple[Any, httpx.AsyncClient]:
    app = create_app(ServerConfig())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")
    for number in range(N):
        answer = await client.post("/v1/track", content=orjson.dumps(_payload(number)), headers=AUTH)
        assert answer.status_code == 200
    assert (await client.get("/mockpipe/health")).status_code == 200  # processes the requests answered ahead
    return app, client


def test_journal_records_and_payloads_parse_each_call_once(parses: Parses) -> None:
    journal = Journal()
    app = create_app(ServerConfig(), journal)

    async def fill() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            for number in range(N):
                await client.post("/v1/track", content=orjson.dumps(_payload(number)), headers=AUTH)

    asyncio.run(fill())
    journal.backlog.catch_up()  # processing the requests answered ahead parses their bodies: not counted here
    with parses:
        listed = [call.to_dict() for call in journal.records(write_key=KEY)]
    assert len(listed) == N and parses.count <= N
    assert [row["payload"]["properties"]["n"] for row in listed] == list(range(N))
    with parses:
        payloads = journal.payloads(write_key=KEY)
    assert parses.count <= N and [payload["userId"] for payload in payloads] == [f"u{n}" for n in range(N)]
    with parses:
        assert journal.calls() == journal.records()  # the same method, under both names
    # The carried parse is handed over once: a second `payload` is a fresh dict, not the same one.
    call = journal.records(limit=1)[0]
    first = call.payload
    first["mutated"] = True
    assert "mutated" not in call.payload


@pytest.mark.parametrize(
    ("path", "listed"),
    [
        ("/mockpipe/calls", N),
        (f"/mockpipe/calls/wait?count={N}&timeout=1", N),
        ("/mockpipe/calls/3", 1),
    ],
)
def test_inspection_api_parses_each_call_once(parses: Parses, path: str, listed: int) -> None:
    async def scenario() -> dict[str, Any]:
        _, client = await _filled_app()
        try:
            with parses:
                answer = await client.get(path)
        finally:
            await client.aclose()
        assert answer.status_code == 200
        body: dict[str, Any] = answer.json()
        return body

    body = asyncio.run(scenario())
    calls = body.get("calls", [body])
    assert len(calls) == listed and all(call["payload"]["event"] == "Listed" for call in calls)
    assert parses.count <= listed


def test_fixture_payloads_parse_each_call_once(parses: Parses) -> None:
    with MockPipeServer() as server:
        pipe = MockPipe(server, write_key=KEY)
        for number in range(N):
            answer = httpx.post(f"{server.url}/v1/track", content=orjson.dumps(_payload(number)), headers=AUTH)
            assert answer.status_code == 200
        read = getattr(pipe, "payloads", None) or pipe.calls  # `payloads` once the fixture has the name
        server.journal.backlog.catch_up()  # processing the requests answered ahead parses their bodies
        with parses:
            payloads = read()
        assert len(payloads) == N and parses.count <= N
