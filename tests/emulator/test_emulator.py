"""The Emulator: one place assembles journal, faults, people, live feed, store, recorder and forwarder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest

from mockpipe import Emulator, MockPipeServer, ServerConfig, ServerError, StoreError, create_app
from mockpipe.emulator.live_feed import LiveEvent
from mockpipe.journal.journal import Journal
from mockpipe.journal.store import Store
from tests.conftest import basic


def _track(server: MockPipeServer, event: str, key: str = "k1") -> None:
    response = httpx.post(
        server.url_for("/v1/track"), content=orjson.dumps({"userId": "u1", "event": event}), headers=basic(key)
    )
    assert response.status_code == 200


def test_the_default_emulator_has_every_part_and_nothing_to_close() -> None:
    emulator = Emulator.build(ServerConfig(max_calls=5))
    assert emulator.journal.max_calls == 5 and not emulator.faults.active
    assert (emulator.store, emulator.recorder, emulator.forwarder) == (None, None, None)
    assert emulator.notes == [] and emulator.restored == 0
    assert emulator.close() == []
    assert emulator.restartable  # nothing was ended for good


def test_a_given_journal_is_the_one_filled() -> None:
    journal = Journal()
    emulator = Emulator.build(journal=journal)
    assert emulator.journal is journal and emulator.config == ServerConfig()


def test_the_app_holds_the_emulator_it_serves() -> None:
    emulator = Emulator.build()
    app = create_app(emulator=emulator)
    assert app.emulator is emulator and app.ingest.faults is emulator.faults
    assert create_app(ServerConfig(strict=True)).emulator.config.strict
    with pytest.raises(TypeError):
        create_app(ServerConfig(), emulator=emulator)


def test_the_server_is_built_on_one_emulator() -> None:
    server = MockPipeServer(region="eu")
    emulator = server.app.emulator
    assert server.emulator is emulator
    assert (server.config, server.journal, server.faults, server.people) == (
        emulator.config,
        emulator.journal,
        emulator.faults,
        emulator.people,
    )


@pytest.mark.parametrize(
    ("options", "error", "complaint"),
    [
        ({"forward_key": "k"}, ValueError, "forward_key needs forward"),
        ({"forward": "ftp://example.com"}, ValueError, "not an http"),
        ({"store": "x.db", "journal": Journal()}, TypeError, "journal or a store"),
        ({"store": "x.db", "store_sync": "sometimes"}, ValueError, "synchronous must be"),
    ],
)
def test_bad_options_are_refused(
    options: dict[str, object], error: type[Exception], complaint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=complaint):
        Emulator.build(**options)  # type: ignore[arg-type]


def test_a_failure_closes_what_was_already_opened(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    (tmp_path / "taken").write_text("a file where the recording's folder should be")
    with pytest.raises(OSError) as failure:
        Emulator.build(store=path, record=tmp_path / "taken" / "calls.jsonl")
    # The traceback keeps the half-built parts alive: only closing them released the store's lock.
    with Store(path) as store:
        store.count()
    assert failure.traceback


def test_a_store_is_reloaded_and_told(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path, store_sync="full") as server:
        _track(server, "A")
        assert server.store is not None and server.emulator.notes == [
            f"store: {path} (0 call(s) restored, synchronous=full)"
        ]
    emulator = Emulator.build(store=path)
    try:
        assert emulator.restored == 1 and [call.event for call in emulator.journal.calls()] == ["A"]
        assert emulator.people.person("u1") is not None  # the model replays what the store reloaded
        with pytest.raises(StoreError):
            Emulator.build(store=path)  # one emulator per store
    finally:
        assert emulator.close() == []


def test_record_and_forward_from_python(tmp_path: Path) -> None:
    recording = tmp_path / "calls.jsonl"
    with MockPipeServer() as upstream:
        front = MockPipeServer(record=recording, forward=upstream.url, forward_key="fk")
        assert front.emulator.notes == [
            f"recording accepted calls to {recording}",
            f"forwarding accepted calls to {upstream.url}/v1/batch",
        ]
        with front:
            _track(front, "Signed Up")
            result = upstream.wait_for(1, 10, write_key="fk")
            assert not result.timed_out and result.calls[0].event == "Signed Up"
        lines = recording.read_bytes().splitlines()
        assert [orjson.loads(line)["payload"]["event"] for line in lines] == ["Signed Up"]
        assert front.emulator.closed and front.emulator.recorder is not None
        with pytest.raises(ServerError, match="cannot start again"):
            front.start()  # the recording and the forwarding ended with stop()


def test_close_tells_what_was_forwarded_and_recorded(tmp_path: Path) -> None:
    with MockPipeServer() as upstream:
        emulator = Emulator.build(record=tmp_path / "calls.jsonl", forward=upstream.url)
        assert emulator.close() == [
            "forwarded 0 call(s), 0 failed, 0 left undelivered",
            f"recorded 0 call(s) to {tmp_path / 'calls.jsonl'}",
        ]
        assert emulator.close() == []  # once only
        assert not emulator.restartable


def test_begin_shutdown_ends_streams_waits_and_delays() -> None:
    emulator = Emulator.build()
    emulator.faults.delay(60_000)

    async def scenario() -> tuple[list[LiveEvent], bool, float]:
        stream = emulator.live.stream()
        await anext(stream)  # the hello
        waiting = asyncio.create_task(emulator.journal.wait_for_async(1, 60))
        hit = emulator.faults.take("k1")
        assert hit is not None
        pause = asyncio.create_task(hit.pause())
        await asyncio.sleep(0.01)
        started = asyncio.get_running_loop().time()
        emulator.begin_shutdown()
        await pause
        result = await waiting
        return [chunk async for chunk in stream], result.timed_out, asyncio.get_running_loop().time() - started

    rest, timed_out, took = asyncio.run(scenario())
    assert rest == [] and timed_out and took < 5


def test_server_records_and_payloads(server: MockPipeServer) -> None:
    _track(server, "A")
    _track(server, "B", key="k2")
    assert [call.event for call in server.records()] == ["A", "B"]
    assert server.records(write_key="k2") == server.calls(write_key="k2")
    payloads = server.payloads(write_key="k1")
    assert [(p["event"], p["type"]) for p in payloads] == [("A", "track")]
    assert payloads[0]["messageId"] == server.records(write_key="k1")[0].message_id
