"""The model: per write key, lookups, clearing, following the journal (slices, bounds, stores)."""

from __future__ import annotations

import threading
import types
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.journal.journal import Call, Journal, RequestRecord
from mockpipe.people.model import AmbiguousIdError, People
from tests.conftest import Client
from tests.people.helpers import missing, ok, person, track

# -- write keys, lookups, clearing -------------------------------------------------------------


def test_people_are_per_write_key(client: Client, server: MockPipeServer) -> None:
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"env": "a"}}, key="key-a"))
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"env": "b"}}, key="key-b"))
    ok(client.post("/v1/identify", {"userId": "only-b"}, key="key-b"))

    ambiguous = client.get("/mockpipe/people/u1")
    assert ambiguous.status_code == 409
    assert ambiguous.json()["writeKeys"] == ["key-a", "key-b"]
    assert person(client, "u1", writeKey="key-b")["traits"] == {"env": "b"}
    assert person(client, "only-b")["writeKey"] == "key-b"  # one key knows it: no writeKey needed
    missing(client, "/mockpipe/people/only-b", writeKey="key-a")
    assert client.get("/mockpipe/people", writeKey="key-a").json()["count"] == 1
    assert client.get("/mockpipe/people").json()["count"] == 3

    with pytest.raises(AmbiguousIdError, match="key-a, key-b"):
        server.person("u1")
    found = server.person("u1", write_key="key-a")
    assert found is not None and found.traits == {"env": "a"} and found.ids == ("u1",)


def test_lists_of_several_write_keys_keep_each_under_its_own(client: Client, server: MockPipeServer) -> None:
    # Issue 13: the streams merged by creation read the loop's write key late, so that every person was
    # listed under the last key, and an object looked up under it raised KeyError.
    for key in ("key-a", "key-b", "key-c"):
        ok(client.post("/v1/identify", {"userId": f"u-{key}"}, key=key))
        ok(client.post("/v1/group", {"userId": f"u-{key}", "groupId": f"g-{key}"}, key=key))
    people = server.people
    assert [(p.write_key, p.ids[0]) for p in people.people()] == [(k, f"u-{k}") for k in ("key-a", "key-b", "key-c")]
    assert [p.write_key for p in people.people_page("key-a").items] == ["key-a"]
    assert [(o.write_key, o.object_id) for o in people.objects()] == [
        (k, f"g-{k}") for k in ("key-a", "key-b", "key-c")
    ]
    assert [o.object_id for o in people.objects_page("key-b").items] == ["g-key-b"]


def test_a_read_applies_queued_calls_in_slices() -> None:
    """The first read after a burst lets go of the lock between slices: the listener that queues
    the calls (on the server's event loop) waits for one slice at most, not for all of them."""
    journal = Journal()
    people = People.from_journal(journal)
    people.CATCH_UP_SLICE = 10
    holds: list[int] = []
    real_lock = people._lock

    class CountingLock:
        def acquire(self) -> bool:
            real_lock.acquire()
            holds.append(0)
            return True

        def release(self) -> None:
            real_lock.release()

        def __enter__(self) -> None:
            self.acquire()

        def __exit__(self, *exc: object) -> None:
            self.release()

    with MockPipeServer(journal=journal) as server:
        client = Client(server)
        try:
            ok(client.post("/v1/batch", {"batch": [{"type": "identify", "userId": f"u{i}"} for i in range(35)]}))
        finally:
            client.close()
    people._lock = CountingLock()  # type: ignore[assignment]
    assert len(people.people()) == 35
    assert len(holds) == 4  # 3 slices of 10, then the last 5 and the read itself
    people.detach()


def test_a_slow_read_does_not_hold_up_the_server(server: MockPipeServer, client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "u1"}))
    entered, release = threading.Event(), threading.Event()
    apply = server.people._apply_safely

    def slow(call: Any) -> None:
        entered.set()
        release.wait(5)
        apply(call)

    server.people._apply_safely = slow  # type: ignore[method-assign]
    with ThreadPoolExecutor(1) as pool, closing(Client(server)) as other:
        listing = pool.submit(other.get, "/mockpipe/people")
        assert entered.wait(5)  # the read is applying the queued identify...
        try:
            # ...in a worker thread: the event loop answers meanwhile.
            assert client.http.get("/mockpipe/health", timeout=2).status_code == 200
        finally:
            release.set()
        assert listing.result(5).json()["total"] == 1


def test_clearing_the_journal_forgets_people(client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "u1"}, key="key-a"))
    ok(client.post("/v1/identify", {"userId": "u2"}, key="key-b"))
    ok(client.post("/v1/group", {"userId": "u2", "groupId": "acme"}, key="key-b"))
    client.http.delete("/mockpipe/calls", params={"writeKey": "key-a"})
    assert [p["id"] for p in client.get("/mockpipe/people").json()["people"]] == ["u2"]
    client.http.delete("/mockpipe/calls")
    assert client.get("/mockpipe/people").json()["count"] == 0
    missing(client, "/mockpipe/objects/1/acme")


def test_python_api(client: Client, server: MockPipeServer) -> None:
    ok(client.post("/v1/identify", {"anonymousId": "a1", "userId": "u1", "traits": {"name": "Ann"}}))
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "acme", "traits": {"relationshipAttributes": {"r": 1}}}))
    track(client, "Device Created or Updated", userId="u1", context={"device": {"token": "t", "type": "ios"}})
    found = server.person("a1")
    assert found is not None
    assert found.ids == ("u1", "a1")
    assert found.traits == {"name": "Ann"}
    assert found.devices["t"].type == "ios"
    assert found.relationship("acme") == found.objects[("1", "acme")]
    assert found.objects[("1", "acme")].attributes == {"r": 1}
    assert [e.name for e in found.events] == ["Device Created or Updated"]
    found.traits["name"] = "changed"  # a snapshot: changing it changes nothing inside
    again = server.people.person("u1")
    assert again is not None and again.traits == {"name": "Ann"}
    assert server.person("nobody") is None
    acme = server.people.object("acme")
    assert acme is not None and acme.people == {"u1": {"r": 1}}


def test_rebuilt_from_the_journal(client: Client, server: MockPipeServer) -> None:
    ok(
        client.post(
            "/v1/batch",
            {
                "batch": [
                    {"type": "identify", "anonymousId": "a1", "traits": {"x": 1}},
                    {"type": "identify", "anonymousId": "a1", "userId": "u1"},
                    {"type": "group", "userId": "u1", "groupId": "g", "traits": {"relationshipAttributes": {"r": 1}}},
                    {
                        "type": "track",
                        "userId": "u2",
                        "event": "Device Created or Updated",
                        "context": {"device": {"token": "t"}},
                    },
                    {"type": "alias", "previousId": "u2", "userId": "u3"},
                    {"type": "track", "userId": "u3", "event": "User Suppressed"},
                ]
            },
        )
    )
    ok(client.post("/v1/track", {"userId": "u1", "event": "x", "messageId": "dup"}))
    ok(client.post("/v1/track", {"userId": "u1", "event": "x", "messageId": "dup"}))
    rebuilt = People.from_journal(server.journal)
    try:
        assert [p.to_dict() for p in rebuilt.people()] == [p.to_dict() for p in server.people.people()]
        assert [o.to_dict() for o in rebuilt.objects()] == [o.to_dict() for o in server.people.objects()]
        # ...and it follows the journal from then on.
        ok(client.post("/v1/identify", {"userId": "u4"}))
        assert rebuilt.person("u4") is not None
    finally:
        rebuilt.detach()


def test_calls_waiting_for_a_read_stay_within_the_journal_bound() -> None:
    with MockPipeServer(max_calls=5) as bounded:
        client = Client(bounded)
        try:
            for i in range(12):
                ok(client.post("/v1/identify", {"userId": f"u{i}"}))
                assert not bounded.people._dropped  # applied as the journal forgets them, not kept
        finally:
            client.close()
        assert len(bounded.journal) == 5
        assert [p.user_id for p in bounded.people.people()] == [f"u{i}" for i in range(12)]


def test_people_come_back_with_a_stored_journal(tmp_path: Path) -> None:
    store = tmp_path / "journal.sqlite"
    with MockPipeServer(store=store) as first:
        client = Client(first)
        try:
            ok(client.post("/v1/identify", {"anonymousId": "a1", "userId": "u1", "traits": {"plan": "pro"}}))
            ok(client.post("/v1/group", {"userId": "u1", "groupId": "acme"}))
        finally:
            client.close()
        before = first.person("a1")
    with MockPipeServer(store=store) as second:  # a restart: the store reloads the journal
        assert second.person("a1") == before
        assert second.people.object("acme") is not None


def _identify(
    journal: Journal, key: str, user_id: str, *, call_id: int | None = None, event: str | None = None
) -> None:
    """Record an identify (or a track, given an event) of its own request."""
    call_id = call_id or journal.next_call_id()
    call_type = "identify" if event is None else "track"
    payload = {"type": call_type, "userId": user_id, "messageId": f"m{call_id}", "event": event}
    call = Call(
        call_id,
        call_id,
        key,
        call_type,
        "2026-01-01T00:00:00.000Z",
        "us",
        "/v1/identify",
        True,
        True,
        (),
        f"m{call_id}",
        user_id,
        None,
        event,
        None,
        orjson.dumps(payload),
    )
    journal.record(
        RequestRecord(
            call_id,
            call.received_at,
            "POST",
            "/v1/identify",
            key,
            "basic",
            200,
            True,
            None,
            None,
            (),
            (call_id,),
            10,
            None,
            None,
            None,
        ),
        [call],
    )


def test_a_bounded_journal_still_hands_over_what_it_forgets_after_a_key_is_cleared() -> None:
    journal = Journal(max_calls=3)
    people = People.from_journal(journal)
    _identify(journal, "a", "a0")
    _identify(journal, "b", "b0")
    journal.clear("b")
    for i in range(1, 8):
        _identify(journal, "a", f"a{i}")
    assert [p.user_id for p in people.people("a")] == [f"a{i}" for i in range(8)]
    assert people.people("b") == []


def test_calls_restored_out_of_order_are_applied_once() -> None:
    restored = Journal()
    for call_id in (50, 7, 20):
        _identify(restored, "k", "u", call_id=call_id, event=f"E{call_id}")
    journal = Journal()
    journal.restore(restored.requests(), restored.calls())
    people = People.from_journal(journal)
    for _ in range(2):
        person = people.person("u", write_key="k")
        assert person is not None and [e.name for e in person.events] == ["E50", "E7", "E20"]
    _identify(journal, "k", "u", event="E51")
    person = people.person("u", write_key="k")
    assert person is not None and [e.name for e in person.events] == ["E50", "E7", "E20", "E51"]


# -- reading a burst from the journal's rows ------------------------------------------------------


def _bench_burst(journal: Journal, batches: int) -> None:
    """Batches of the bench's calls (tracks, identifies with traits, pages) through the real ingest, with
    a resend of the first batch and a rejected request among them."""
    from mockpipe.bench.scenarios import AUTHORIZATION, batch_item
    from mockpipe.emulator.config import ServerConfig
    from mockpipe.emulator.ingest import Ingest

    ingest = Ingest(ServerConfig(), journal)
    headers = {b"authorization": AUTHORIZATION.encode()}
    bodies = []
    for number in range(batches):
        items = [batch_item(index) | {"messageId": f"m-{number}-{index}"} for index in range(number, number + 30)]
        bodies.append(orjson.dumps({"batch": items}))
    for body in [*bodies, bodies[0], b'{"batch": 1}']:
        ingest.handle("POST", "/v1/batch", headers, body, False)


def test_a_burst_read_from_the_rows_is_what_the_calls_make_one_by_one() -> None:
    journal = Journal()
    following = People.from_journal(journal)
    _bench_burst(journal, 5)
    fed = People()
    fed.apply(journal.calls(duplicates=True))  # resends and rejected calls among them: skipped here too
    try:
        assert len(following.people()) == 34
        assert [p.to_dict() for p in following.people()] == [p.to_dict() for p in fed.people()]
        viewer = following.person("user-000005")  # pages: index 5 of each batch
        assert viewer is not None
        assert [(e.type, e.name, e.message_id) for e in viewer.events] == [
            ("page", "Product", f"m-{n}-5") for n in range(5)
        ]
        assert viewer.events[0].properties["path"] == "/products/5"
        assert (viewer.traits, viewer.emails) == ({}, ())
        identified = following.person("user4@example.com")  # identifies: index 4
        assert identified is not None and identified.ids == (
            "user-000004",
            "anon-00000004-5f1c3b2a",
            "user4@example.com",
        )
        assert identified.traits["plan"] == "pro" and identified.events == ()
    finally:
        following.detach()


def test_ids_and_message_ids_read_from_the_json_as_the_journal_indexes_them(client: Client) -> None:
    ok(client.post("/v1/track", {"userId": 42, "event": "Paid", "messageId": 7, "properties": {"n": 1}}))
    ok(client.post("/v1/page", {"anonymousId": 1.5, "name": "Home"}))
    ok(client.post("/v1/screen", {"userId": "", "anonymousId": "a2", "name": 3}))
    paid = person(client, "42")
    assert (paid["userId"], paid["events"][0]["messageId"], paid["events"][0]["name"]) == ("42", "7", "Paid")
    assert person(client, "1.5")["anonymousIds"] == ["1.5"]
    screen = person(client, "a2")  # an empty userId is no id; a name that is no string is no name
    assert (screen["userId"], screen["events"][0]["name"]) == (None, None)


def test_a_bounded_journal_recording_during_a_read_leaves_what_it_forgets_to_the_read() -> None:
    """A read that brings its journal up to date holds the model's lock while the journal records (and
    forgets) calls, on the same thread: the listener must not wait for that lock."""
    from mockpipe.emulator.config import ServerConfig
    from mockpipe.emulator.ingest import Ingest

    journal = Journal(max_calls=2)
    people = People.from_journal(journal)
    ingest = Ingest(ServerConfig(), journal)

    def send(*user_ids: str) -> None:
        for user_id in user_ids:
            body = orjson.dumps({"userId": user_id})
            ingest.handle("POST", "/v1/identify", {b"authorization": b"Basic azE6"}, body, False)

    send("u0", "u1")

    def during_a_read() -> None:
        with people._lock:
            send("u2", "u3", "u4")  # u0, u1 and u2 forgotten, none applied yet

    reader = threading.Thread(target=during_a_read, daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "the listener waited for the lock its own thread holds"
    assert [p.user_id for p in people.people()] == ["u0", "u1", "u2", "u3", "u4"]
    people.detach()


def test_a_read_yields_the_cpu_between_slices_only_to_someone_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    yields: list[float] = []
    # The model's own `time` only: other threads keep the real `time.sleep`.
    monkeypatch.setattr("mockpipe.people.model.time", types.SimpleNamespace(sleep=yields.append))

    def read_after_a_burst(waiting: bool) -> int:
        journal = Journal()
        people = People.from_journal(journal)
        people.CATCH_UP_SLICE = 10
        _bench_burst(journal, 1)  # 30 calls: three slices
        if waiting:
            people._waiting.append(None)  # as `_held` notes a clear or a feed waiting for the lock
        yields.clear()
        assert len(people.people()) == 30
        people.detach()
        return len(yields)

    assert read_after_a_burst(waiting=False) == 0
    assert read_after_a_burst(waiting=True) == 3  # after each full slice (resends follow the third)
