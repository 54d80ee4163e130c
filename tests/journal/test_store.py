"""The persistent store: restarts keep everything, a kill -9 loses no answered call, clears reach the file."""

from __future__ import annotations

import atexit
import base64
import contextlib
import http.client
import sqlite3
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli.inspection_client import InspectionClient
from mockpipe.journal.store import Store, StoreError, StoreLockedError
from tests.support.serve_process import ServeProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# One client for the module: a new one per request costs ~30 ms (its TLS context).
HTTP = httpx.Client(timeout=10)
atexit.register(HTTP.close)  # its kept-alive sockets would warn at exit, unclosed

AUTH = {"Authorization": "Basic " + base64.b64encode(b"k1:").decode(), "Content-Type": "application/json"}


def _send(server: MockPipeServer, path: str, body: object, key: str = "k1") -> None:
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    assert HTTP.post(server.url_for(path), content=content, headers=headers).status_code == 200


def _snapshot(server: MockPipeServer) -> tuple[object, ...]:
    journal = server.journal
    return (
        [call.to_dict(attempts=journal.attempts(call.id)) for call in journal.calls(duplicates=True)],
        [request.to_dict() for request in journal.requests()],
        [journal.source(key).to_dict() for key in sorted(journal.write_keys())],
    )


@contextlib.contextmanager
def own_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of the test's own, committed and closed on leaving: sqlite3's `with` only commits,
    and a connection left to the collector is a ResourceWarning (an error here) from Python 3.13 on."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        yield db


def test_a_restart_keeps_calls_requests_ids_and_source_status(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server:
        _send(server, "/v1/track", {"userId": "u1", "event": "Signed Up", "messageId": "m1"})
        _send(server, "/v1/track", {"userId": "u1", "event": "Signed Up", "messageId": "m1"})  # a resend
        _send(
            server,
            "/v1/batch",
            {
                "batch": [
                    {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
                    {"type": "track", "event": "No One"},
                ]
            },
        )  # the second is invalid
        _send(server, "/v1/track", b"{not json", key="k2")  # a rejected request (answered 200), with no call
        before = _snapshot(server)
        last_call, last_request = server.calls(duplicates=True)[-1].id, server.requests()[-1].id

    with MockPipeServer(store=path) as server:
        assert _snapshot(server) == before
        assert server.journal.attempts(1) == 2
        assert server.source("k1").connected
        assert server.calls(type="track", valid=False)[0].errors[0].code == "identity.required"
        _send(server, "/v1/page", {"anonymousId": "a1", "name": "Home"})
        assert server.calls()[-1].id == last_call + 1
        assert server.requests()[-1].id == last_request + 1


def test_clear_reaches_the_store_and_ids_are_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server:
        _send(server, "/v1/track", {"userId": "u1", "event": "A"}, key="k1")
        _send(server, "/v1/track", {"userId": "u2", "event": "B"}, key="k2")
        assert HTTP.delete(server.url_for("/mockpipe/calls"), params={"writeKey": "k1"}).json() == {"deleted": 1}
    with MockPipeServer(store=path) as server:
        assert [call.write_key for call in server.calls()] == ["k2"]
        assert server.source("k1").calls == 0
        server.clear()
    with MockPipeServer(store=path) as server:
        assert server.calls() == [] and server.requests() == []
        _send(server, "/v1/track", {"userId": "u3", "event": "C"})
        assert server.calls()[0].id == 3  # after the two calls cleared, not 1 again
        assert server.requests()[0].id == 3


def test_max_calls_restores_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server:
        for number in range(5):
            _send(server, "/v1/track", {"userId": "u1", "event": f"E{number}"})
    with MockPipeServer(store=path, max_calls=2) as server:
        assert [call.event for call in server.calls()] == ["E3", "E4"]
        _send(server, "/v1/track", {"userId": "u1", "event": "E5"})
        assert server.calls()[-1].id == 6
    with Store(path) as store:
        assert store.count() == 6  # the file keeps everything; the bound is for memory


def test_the_store_is_wal_and_synchronous_as_asked(tmp_path: Path) -> None:
    normal = Store(tmp_path / "normal.db")
    full = Store(tmp_path / "full.db", synchronous="full")
    try:
        for store, level in ((normal, 1), (full, 2)):
            db = store._connection()
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("PRAGMA synchronous").fetchone()[0] == level
    finally:
        normal.close()
        full.close()
    with pytest.raises(ValueError, match="synchronous"):
        Store(tmp_path / "x.db", synchronous="off")


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database, not even close " * 100)
    with pytest.raises(StoreError, match="cannot use"):
        Store(text)
    other = tmp_path / "other.db"
    with own_connection(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a mockpipe store"):
        Store(other)
    with pytest.raises(StoreError, match="no store at"):
        Store(tmp_path / "missing.db", readonly=True)
    newer = tmp_path / "newer.db"
    Store(newer).close()
    with own_connection(newer) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="schema version 99"):
        Store(newer)


def test_a_store_of_a_stopped_server_is_reopened_on_restart(tmp_path: Path) -> None:
    server = MockPipeServer(store=tmp_path / "journal.db")
    with server:
        _send(server, "/v1/track", {"userId": "u1", "event": "A"})
    with server:  # the same object started again: the store reopens on the first write
        _send(server, "/v1/track", {"userId": "u1", "event": "B"})
    with Store(tmp_path / "journal.db") as store:
        assert store.count() == 2


def test_every_call_answered_200_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    acknowledged: list[str] = []
    enough = threading.Event()
    lock = threading.Lock()
    first = ServeProcess("--store", str(path))

    def stream(thread: int) -> None:
        connection = http.client.HTTPConnection(first.host, first.port, timeout=10)
        number = 0
        while True:  # until the server dies under us
            ids = [f"t{thread}-{number}-{item}" for item in range(1 + number % 3)]
            number += 1
            calls = [{"type": "track", "userId": "u1", "event": "Streamed", "messageId": m} for m in ids]
            body = orjson.dumps({"batch": calls} if len(calls) > 1 else calls[0])
            try:
                connection.request("POST", "/v1/batch" if len(calls) > 1 else "/v1/track", body, AUTH)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                return
            if response.status == 200:
                with lock:
                    acknowledged.extend(ids)
                    if len(acknowledged) >= 600:
                        enough.set()

    threads = [threading.Thread(target=stream, args=(n,)) for n in range(4)]
    with first:
        for thread in threads:
            thread.start()
        assert enough.wait(60), "the stream did not get going"
        first.kill()  # SIGKILL, mid-stream: the threads are still sending
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= 600

    with ServeProcess("--store", str(path)) as second, InspectionClient(second.url) as client:
        stored = list(client.calls({"duplicates": "true"}))
        received = {call["payload"]["messageId"] for call in stored}
        missing = set(acknowledged) - received
        assert not missing, f"{len(missing)} answered call(s) lost, e.g. {sorted(missing)[:5]}"
        ids = [call["id"] for call in stored]
        assert ids == sorted(set(ids))
        after = HTTP.post(second.url + "/v1/track", content=b'{"userId":"u1","event":"After"}', headers=AUTH)
        assert after.status_code == 200
        newest, _ = client.wait(ids[-1], {})
        assert [call["id"] for call in newest] == [ids[-1] + 1]
        second.stop()


def test_a_second_server_on_the_same_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with ServeProcess("--store", str(path)) as first:
        second = subprocess.run(
            [sys.executable, "-m", "mockpipe", "serve", "--port", "0", "--store", str(path)],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert second.returncode == 1
        assert f"{path} is in use by another mockpipe" in second.stderr
        assert "listening" not in second.stdout
        # The first one is untouched and keeps writing.
        answer = HTTP.post(first.url + "/v1/track", content=b'{"userId":"u1","event":"A"}', headers=AUTH)
        assert answer.status_code == 200
        first.stop()
    with MockPipeServer(store=path) as server:  # the lock went with the process that held it
        with pytest.raises(StoreLockedError, match="in use by another mockpipe"):
            MockPipeServer(store=path)
        with pytest.raises(StoreLockedError):
            Store(path)
        _send(server, "/v1/track", {"userId": "u1", "event": "B"})
    with Store(path) as store:  # the stopped server released it
        assert store.count() == 2
    Store(path, readonly=True).close()  # a reader (`mockpipe export --store`) takes no lock


def test_a_store_of_schema_version_1_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server:
        _send(server, "/v1/track", {"userId": "u1", "event": "A"})
    with own_connection(path) as db:  # as the first version of the store made it
        db.executescript("DROP TABLE forwards; PRAGMA user_version = 1;")
    with Store(path, readonly=True) as reader:  # read as it is
        assert reader.count() == 1
    with Store(path) as store:
        assert store.count() == 1
        assert store.pending_forward_counts() == {}
    with own_connection(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM forwards").fetchone()[0] == 0


def test_forward_status_is_kept_with_the_call_and_cleared_with_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    url = "http://127.0.0.1:9/v1/batch"
    with MockPipeServer(store=path) as server:
        assert server.store is not None
        server.store.track_forwards(url, lambda call: {"status": "pending"} if call.event != "Not" else None)
        _send(
            server,
            "/v1/batch",
            {"batch": [{"type": "track", "userId": "u1", "event": event} for event in ("A", "Not", "B")]},
        )
        _send(server, "/v1/track", {"userId": "u2", "event": "C"}, key="k2")
        assert [call.event for call in server.store.pending_forwards(url)] == ["A", "B", "C"]
        server.store.update_forwards(url, [(1, {"status": "delivered", "attempts": 1})])
        assert server.store.forwards(url) == [
            (1, {"status": "delivered", "attempts": 1}),
            (3, {"status": "pending"}),
            (4, {"status": "pending"}),
        ]
        server.clear("k1")
        assert server.store.pending_forward_counts() == {url: 1}
        assert [call_id for call_id, _ in server.store.forwards(url)] == [4]


def test_rows_are_read_back_by_column_name_whatever_the_column_order(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server:
        _send(server, "/v1/track", {"userId": "u1", "event": "Signed Up", "messageId": "m1"})
        before = _snapshot(server)
    db = sqlite3.connect(path)
    with db:  # the same columns, in the reverse order: nothing may depend on their positions
        for table in ("calls", "requests"):
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")][::-1]
            db.execute(f"CREATE TABLE {table}_reversed AS SELECT {', '.join(columns)} FROM {table}")
            db.execute(f"DROP TABLE {table}")
            db.execute(f"ALTER TABLE {table}_reversed RENAME TO {table}")
    db.close()
    with MockPipeServer(store=path) as server:
        assert _snapshot(server) == before
        _send(server, "/v1/track", {"userId": "u2", "event": "Later", "messageId": "m2"})  # written by name too
        assert [call.message_id for call in server.journal.records()] == ["m1", "m2"]


DAMAGES = {
    "call violations not JSON": "UPDATE calls SET violations = '{{{' WHERE id = 2",
    "call violations of another shape": "UPDATE calls SET violations = '[1, 2]' WHERE id = 2",
    "call raw as text": "UPDATE calls SET raw = 'hello' WHERE id = 2",
    "call raw as an integer": "UPDATE calls SET raw = 5 WHERE id = 2",
    "call raw not JSON": "UPDATE calls SET raw = x'00ff' WHERE id = 2",
    "call raw not an object": "UPDATE calls SET raw = CAST('[1]' AS BLOB) WHERE id = 2",
    "call duplicate_of as text": "UPDATE calls SET duplicate_of = 'x' WHERE id = 2",
    "request call_ids not JSON": "UPDATE requests SET call_ids = 'nope' WHERE id = 2",
    "request call_ids not ids": "UPDATE requests SET call_ids = '{\"a\": 1}' WHERE id = 2",
    "request violations not JSON": "UPDATE requests SET violations = 'nope' WHERE id = 2",
    "request body as text": "UPDATE requests SET body = 'text' WHERE id = 2",
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_row_is_skipped_with_a_warning_and_counted(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server:
        for event in ("A", "B", "C"):
            _send(server, "/v1/track", {"userId": "u1", "event": event})
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(DAMAGES[damage])
    with caplog.at_level("WARNING", logger="mockpipe.journal.store"), MockPipeServer(store=path) as server:
        for url in ("/mockpipe/calls", "/mockpipe/requests", "/mockpipe/people", "/mockpipe/calls/2"):
            assert HTTP.get(server.url_for(url)).status_code in (200, 404), url
        assert HTTP.get(server.url_for("/mockpipe/calls/1")).status_code == 200
        health = HTTP.get(server.url_for("/mockpipe/health")).json()
        assert health["damagedRows"] == 1
        events = [call["payload"]["event"] for call in HTTP.get(server.url_for("/mockpipe/calls")).json()["calls"]]
        assert events == (["A", "C"] if damage.startswith("call") else ["A", "B", "C"])
        _send(server, "/v1/track", {"userId": "u1", "event": "D"})  # and it keeps writing
        assert server.calls()[-1].id == 4
    warnings = [record.getMessage() for record in caplog.records]
    assert any("skipped the damaged" in message and " row 2: " in message for message in warnings), warnings
    assert any("1 damaged row(s) skipped" in message for message in warnings), warnings


def test_health_counts_no_damaged_rows_by_default(tmp_path: Path) -> None:
    with MockPipeServer(store=tmp_path / "journal.db") as server:
        assert HTTP.get(server.url_for("/mockpipe/health")).json()["damagedRows"] == 0
    with MockPipeServer() as server:
        assert HTTP.get(server.url_for("/mockpipe/health")).json()["damagedRows"] == 0


def test_a_restore_takes_no_more_memory_than_the_calls_took_live(tmp_path: Path) -> None:
    import gc
    import tracemalloc

    from mockpipe.emulator.config import ServerConfig
    from mockpipe.emulator.ingest import Ingest

    path = tmp_path / "journal.db"
    headers = {b"authorization": b"Basic " + base64.b64encode(b"k1:"), b"content-type": b"application/json"}
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        store = Store(path)
        live = store.open_journal()
        ingest = Ingest(ServerConfig(), live)
        for start in range(0, 30_000, 100):
            batch = [
                {
                    "type": "track",
                    "userId": f"u{n % 500}",
                    "event": "Viewed",
                    "messageId": f"m{n}",
                    "properties": {"n": n},
                }
                for n in range(start, start + 100)
            ]
            assert ingest.handle("POST", "/v1/batch", headers, orjson.dumps({"batch": batch}), False)[0] == 200
        del ingest, batch
        gc.collect()
        live_size = tracemalloc.get_traced_memory()[0] - before
        store.close()

        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with Store(path, readonly=True) as reader:
            restored = reader.open_journal()
            gc.collect()
            restored_size, restored_peak = (size - before for size in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()
    assert len(restored) == len(live) == 30_000
    assert restored_size <= live_size * 1.10, (restored_size, live_size)
    assert restored_peak <= live_size * 1.10, (restored_peak, live_size)  # streamed: no list of every row first
