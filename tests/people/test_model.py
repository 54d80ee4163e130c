"""People and objects, through a real server over HTTP: each semantic of the seed."""

from __future__ import annotations

import threading
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

T1 = "2026-01-01T10:00:00.000Z"
T2 = "2026-01-02T10:00:00.000Z"
T3 = "2026-01-03T10:00:00.000Z"


def person(client: Client, person_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/mockpipe/people/{person_id}", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def missing(client: Client, path: str, **params: Any) -> None:
    response = client.get(path, **params)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


def ok(response: Any) -> None:
    assert response.status_code == 200, response.text


# -- identity ----------------------------------------------------------------------------------


def test_identify_with_both_ids_ties_earlier_anonymous_activity(client: Client) -> None:
    ok(client.post("/v1/identify", {"anonymousId": "a1", "traits": {"plan": "trial"}, "timestamp": T1}))
    ok(
        client.post(
            "/v1/track", {"anonymousId": "a1", "event": "Viewed Pricing", "properties": {"tier": 2}, "timestamp": T1}
        )
    )
    ok(client.post("/v1/page", {"anonymousId": "a1", "name": "Home", "timestamp": T1}))
    assert person(client, "a1")["userId"] is None

    ok(
        client.post(
            "/v1/identify",
            {"anonymousId": "a1", "userId": "u1", "traits": {"email": "u1@example.com"}, "timestamp": T2},
        )
    )
    ok(client.post("/v1/track", {"anonymousId": "a1", "event": "Signed Up", "timestamp": T3}))

    found = person(client, "u1")
    assert found["anonymousIds"] == ["a1"]
    assert found["traits"] == {"plan": "trial", "email": "u1@example.com"}
    assert [(e["type"], e["name"]) for e in found["events"]] == [
        ("track", "Viewed Pricing"),
        ("page", "Home"),
        ("track", "Signed Up"),
    ]
    assert found["events"][0]["properties"] == {"tier": 2}
    assert (found["firstSeen"], found["lastSeen"]) == (T1, T3)
    assert person(client, "a1") == found  # any merged id finds the person
    people = client.get("/mockpipe/people").json()
    assert [p["id"] for p in people["people"]] == ["u1"]


def test_track_with_both_ids_does_not_merge(client: Client) -> None:
    ok(client.post("/v1/track", {"anonymousId": "a1", "event": "Viewed"}))
    ok(client.post("/v1/track", {"anonymousId": "a1", "userId": "u1", "event": "Clicked"}))
    assert person(client, "u1")["anonymousIds"] == []
    assert person(client, "a1")["userId"] is None  # only identify ties anonymous activity


def test_an_anonymous_id_moves_to_the_person_identified_last(client: Client) -> None:
    ok(client.post("/v1/identify", {"anonymousId": "device", "userId": "u1"}))
    ok(client.post("/v1/identify", {"anonymousId": "device", "userId": "u2"}))
    ok(client.post("/v1/track", {"anonymousId": "device", "event": "Opened"}))
    assert person(client, "device")["userId"] == "u2"
    assert person(client, "u1")["anonymousIds"] == []
    assert person(client, "u2")["events"][0]["name"] == "Opened"


def test_identify_by_email_only_then_by_user_id(client: Client) -> None:
    ok(client.post("/v1/identify", {"traits": {"email": "e@example.com", "name": "E"}}))
    assert person(client, "e@example.com")["emails"] == ["e@example.com"]
    ok(client.post("/v1/identify", {"userId": "u9", "traits": {"email": "e@example.com"}}))
    found = person(client, "e@example.com")
    assert found["userId"] == "u9"
    assert found["traits"] == {"email": "e@example.com", "name": "E"}


def test_any_email_seen_in_traits_finds_the_person(client: Client) -> None:
    ok(
        client.post(
            "/v1/identify",
            {"userId": "u1", "anonymousId": "a1", "traits": {"email": "old@example.com"}, "timestamp": T1},
        )
    )
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"email": "new@example.com"}, "timestamp": T2}))
    ok(client.post("/v1/identify", {"anonymousId": "a2", "traits": {"email": "anon@example.com"}}))
    for email in ("old@example.com", "new@example.com"):
        found = person(client, email)
        assert found["userId"] == "u1" and found["traits"]["email"] == "new@example.com"
    assert person(client, "u1")["emails"] == ["old@example.com", "new@example.com"]
    assert person(client, "anon@example.com")["anonymousIds"] == ["a2"]
    assert [p["id"] for p in client.get("/mockpipe/people").json()["people"]] == ["u1", "a2"]

    # An identify by email alone updates the person who has that email, rather than making another.
    ok(client.post("/v1/identify", {"traits": {"email": "new@example.com", "plan": "pro"}, "timestamp": T3}))
    assert person(client, "u1")["traits"] == {"email": "new@example.com", "plan": "pro"}
    assert client.get("/mockpipe/people").json()["total"] == 2


def test_an_email_shared_by_two_known_people_finds_the_latest_and_merges_neither(client: Client) -> None:
    ok(client.post("/v1/identify", {"anonymousId": "a1", "traits": {"email": "shared@example.com"}}))
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"email": "shared@example.com"}}))
    assert person(client, "shared@example.com")["userId"] == "u1"
    assert person(client, "a1")["userId"] is None  # only a profile known by its email alone is merged
    assert client.get("/mockpipe/people").json()["total"] == 2


def test_alias_merges_previous_user_id(client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "old", "traits": {"name": "Ann", "plan": "free"}, "timestamp": T1}))
    ok(client.post("/v1/track", {"userId": "old", "event": "Logged In", "timestamp": T1}))
    ok(client.post("/v1/identify", {"userId": "new", "traits": {"plan": "pro"}, "timestamp": T2}))
    ok(client.post("/v1/alias", {"previousId": "old", "userId": "new", "timestamp": T3}))

    found = person(client, "old")
    assert found["userId"] == "new"
    assert found["previousIds"] == ["old"]
    assert found["traits"] == {"name": "Ann", "plan": "pro"}  # pro is the newer value
    assert [e["name"] for e in found["events"]] == ["Logged In"]
    assert [p["id"] for p in client.get("/mockpipe/people").json()["people"]] == ["new"]
    # Calls that still use the old id reach the merged person.
    ok(client.post("/v1/track", {"userId": "old", "event": "Again"}))
    assert [e["name"] for e in person(client, "new")["events"]] == ["Logged In", "Again"]


def test_alias_merges_an_anonymous_id_and_an_unknown_previous_id(client: Client) -> None:
    ok(client.post("/v1/track", {"anonymousId": "anon-7", "event": "Browsed"}))
    ok(client.post("/v1/alias", {"previousId": "anon-7", "userId": "u7"}))
    assert person(client, "anon-7")["userId"] == "u7"
    assert person(client, "u7")["anonymousIds"] == ["anon-7"]

    ok(client.post("/v1/alias", {"previousId": "legacy-7", "userId": "u7"}))
    assert person(client, "legacy-7")["previousIds"] == ["legacy-7"]


def test_traits_merge_newest_timestamp_wins(client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"plan": "pro", "seats": 5}, "timestamp": T2}))
    # A backfilled call, older than what is known: it adds `city` but changes nothing newer.
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"plan": "free", "city": "Oslo"}, "timestamp": T1}))
    assert person(client, "u1")["traits"] == {"plan": "pro", "seats": 5, "city": "Oslo"}
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"seats": 6}, "timestamp": T3}))
    assert person(client, "u1")["traits"] == {"plan": "pro", "seats": 6, "city": "Oslo"}


def test_the_merged_traits_of_a_tie_follow_their_timestamps(client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "u1", "traits": {"plan": "pro"}, "timestamp": T3}))
    ok(client.post("/v1/identify", {"anonymousId": "a1", "traits": {"plan": "trial", "ref": "ad"}, "timestamp": T1}))
    ok(client.post("/v1/identify", {"anonymousId": "a1", "userId": "u1", "timestamp": T2}))
    assert person(client, "u1")["traits"] == {"plan": "pro", "ref": "ad"}


# -- objects and relationships -----------------------------------------------------------------


def test_group_creates_object_and_relationship(client: Client) -> None:
    ok(
        client.post(
            "/v1/group",
            {
                "userId": "u1",
                "groupId": "acme",
                "timestamp": T1,
                "traits": {"name": "Acme", "plan": "enterprise", "relationshipAttributes": {"role": "admin"}},
            },
        )
    )
    ok(
        client.post(
            "/v1/group",
            {
                "userId": "u2",
                "groupId": "acme",
                "timestamp": T2,
                "traits": {"plan": "growth", "relationshipAttributes": {"role": "viewer"}},
            },
        )
    )

    acme = client.get("/mockpipe/objects/1/acme").json()  # object type 1 by default
    assert acme["traits"] == {"name": "Acme", "plan": "growth"}
    assert acme["people"] == [
        {"id": "u1", "relationshipAttributes": {"role": "admin"}},
        {"id": "u2", "relationshipAttributes": {"role": "viewer"}},
    ]
    assert person(client, "u1")["objects"] == [
        {"objectTypeId": "1", "objectId": "acme", "attributes": {"role": "admin"}}
    ]
    # relationship attributes merge like traits
    ok(
        client.post(
            "/v1/group",
            {"userId": "u1", "groupId": "acme", "timestamp": T3, "traits": {"relationshipAttributes": {"team": "ops"}}},
        )
    )
    assert person(client, "u1")["objects"][0]["attributes"] == {"role": "admin", "team": "ops"}


@pytest.mark.parametrize(
    ("where", "extra"),
    [
        ("top level", {"objectTypeId": "2"}),
        ("traits.object_type_id", {"traits": {"object_type_id": "2", "name": "Course"}}),
        ("traits.objectTypeId", {"traits": {"objectTypeId": 2, "name": "Course"}}),
    ],
)
def test_group_object_type_id_spellings(client: Client, where: str, extra: dict[str, Any]) -> None:
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "course-9", **extra}))
    found = client.get("/mockpipe/objects/2/course-9")
    assert found.status_code == 200, where
    assert "object_type_id" not in found.json()["traits"] and "objectTypeId" not in found.json()["traits"]
    missing(client, "/mockpipe/objects/1/course-9")


@pytest.mark.parametrize("path", ["/mockpipe/objects/2", "/mockpipe/objects/2/"])
def test_an_object_type_without_id_lists_the_objects_of_that_type(client: Client, path: str) -> None:
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "course-9", "objectTypeId": "2"}))
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "acme"}))
    answer = client.get(path)
    assert answer.status_code == 200, answer.text  # not a redirect to the other spelling
    assert [(o["objectTypeId"], o["objectId"]) for o in answer.json()["objects"]] == [("2", "course-9")]
    assert client.get("/mockpipe/objects/7").json() == {"objects": [], "count": 0, "total": 0, "next": None}


def test_an_empty_person_id_lists_people(client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "u1"}))
    answer = client.get("/mockpipe/people/")
    assert answer.status_code == 200 and [p["id"] for p in answer.json()["people"]] == ["u1"]


def test_group_without_person_updates_only_the_object(client: Client) -> None:
    ok(client.post("/v1/group", {"groupId": "acme", "traits": {"name": "Acme"}}))
    assert client.get("/mockpipe/objects/1/acme").json()["people"] == []
    assert client.get("/mockpipe/people").json()["count"] == 0
    assert client.get("/mockpipe/objects", typeId="1").json()["count"] == 1


# -- semantic events ----------------------------------------------------------------------------


def track(client: Client, event: str, **fields: Any) -> None:
    ok(client.post("/v1/track", {"event": event, **fields}))


def test_user_deleted_removes_the_person(client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "u1", "anonymousId": "a1", "traits": {"name": "Ann"}}))
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "acme"}))
    track(client, "User Deleted", userId="u1")
    missing(client, "/mockpipe/people/u1")
    missing(client, "/mockpipe/people/a1")
    assert client.get("/mockpipe/objects/1/acme").json()["people"] == []
    # The id can come back as a new person.
    track(client, "Came Back", userId="u1")
    assert person(client, "u1")["traits"] == {}


def test_device_created_updated_and_deleted(client: Client) -> None:
    device = {"token": "tok-1", "type": "ios", "model": "iPhone15,2"}
    track(
        client,
        "Device Created or Updated",
        userId="u1",
        timestamp=T1,
        context={"device": device},
        properties={"push_enabled": True},
    )
    found = person(client, "u1")
    assert found["devices"] == [
        {"token": "tok-1", "type": "ios", "updatedAt": T1, "attributes": {"model": "iPhone15,2", "push_enabled": True}}
    ]

    track(
        client,
        "Device Created or Updated",
        userId="u1",
        timestamp=T2,
        context={"device": {"token": "tok-1", "type": "ios"}},
        properties={"push_enabled": False},
    )
    track(
        client,
        "Device Created or Updated",
        userId="u1",
        timestamp=T2,
        context={"device": {"token": "tok-2", "type": "android"}},
    )
    devices = {d["token"]: d for d in person(client, "u1")["devices"]}
    assert devices["tok-1"]["attributes"] == {"model": "iPhone15,2", "push_enabled": False}
    assert devices["tok-1"]["updatedAt"] == T2
    assert devices["tok-2"]["type"] == "android"

    track(client, "Device Deleted", userId="u1", context={"device": {"token": "tok-1"}})
    assert [d["token"] for d in person(client, "u1")["devices"]] == ["tok-2"]


def test_relationship_deleted(client: Client) -> None:
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "acme"}))
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "course-9", "objectTypeId": "2"}))
    track(client, "Relationship Deleted", userId="u1", properties={"objectId": "course-9", "objectTypeId": 2})
    assert [o["objectId"] for o in person(client, "u1")["objects"]] == ["acme"]
    track(client, "Relationship Deleted", userId="u1", properties={"objectId": "acme"})  # type 1 by default
    assert person(client, "u1")["objects"] == []
    assert client.get("/mockpipe/objects/1/acme").status_code == 200  # the object itself stays


def test_object_deleted(client: Client) -> None:
    ok(client.post("/v1/group", {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}}))
    ok(client.post("/v1/group", {"userId": "u2", "groupId": "acme"}))
    ok(client.post("/v1/group", {"userId": "u2", "groupId": "acme", "objectTypeId": "3"}))
    track(client, "Object Deleted", anonymousId="system", properties={"objectId": "acme", "objectTypeId": 1})
    missing(client, "/mockpipe/objects/1/acme")
    assert person(client, "u1")["objects"] == []
    assert [o["objectTypeId"] for o in person(client, "u2")["objects"]] == ["3"]  # another type, same id
    missing(client, "/mockpipe/people/system")  # the anonymousId it requires is not a person


def test_user_suppressed_and_unsuppressed(client: Client) -> None:
    ok(client.post("/v1/identify", {"userId": "u1"}))
    track(client, "User Suppressed", userId="u1")
    assert person(client, "u1")["suppressed"] is True
    assert client.get("/mockpipe/people").json()["people"][0]["suppressed"] is True
    track(client, "User Unsuppressed", userId="u1")
    assert person(client, "u1")["suppressed"] is False


# -- what counts ---------------------------------------------------------------------------------


def test_only_accepted_first_copies_count(client: Client) -> None:
    call = {"userId": "u1", "event": "Paid", "messageId": "m-1"}
    ok(client.post("/v1/track", call))
    ok(client.post("/v1/track", call))  # an SDK's resend
    # A call rejected in strict mode never reaches the service.
    rejected = client.post("/v1/identify", {"userId": "u1", "traits": {"email": 5}}, headers={"X-Strict-Mode": "1"})
    assert rejected.status_code == 400
    found = person(client, "u1")
    assert [e["name"] for e in found["events"]] == ["Paid"]
    assert found["traits"] == {}


def test_batch_items_apply_in_order(client: Client) -> None:
    ok(
        client.post(
            "/v1/batch",
            {
                "batch": [
                    {"type": "track", "anonymousId": "a1", "event": "Viewed"},
                    {"type": "identify", "anonymousId": "a1", "userId": "u1", "traits": {"name": "Ann"}},
                    {"type": "alias", "previousId": "u1", "userId": "u2"},
                    {"type": "screen", "userId": "u2", "name": "Settings"},
                ]
            },
        )
    )
    found = person(client, "a1")
    assert found["userId"] == "u2"
    assert [e["name"] for e in found["events"]] == ["Viewed", "Settings"]


def test_events_are_bounded(client: Client) -> None:
    total = People.MAX_EVENTS + 5
    ok(client.post("/v1/batch", {"batch": [{"type": "track", "userId": "u1", "event": f"e{i}"} for i in range(total)]}))
    names = [e["name"] for e in person(client, "u1")["events"]]
    assert len(names) == People.MAX_EVENTS
    assert names[-1] == f"e{total - 1}" and names[0] == "e5"


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


def test_people_come_in_pages(client: Client) -> None:
    ok(client.post("/v1/batch", {"batch": [{"type": "identify", "userId": f"u{i}"} for i in range(250)]}, key="key-a"))
    ok(client.post("/v1/identify", {"userId": "u-b"}, key="key-b"))
    ok(client.post("/v1/identify", {"userId": "u250"}, key="key-a"))
    first = client.get("/mockpipe/people").json()
    assert (first["count"], first["total"]) == (100, 252)  # 100 by default
    assert [p["id"] for p in first["people"]] == [f"u{i}" for i in range(100)]
    seen, cursor = [], None
    while True:
        page = client.get("/mockpipe/people", limit=60, **({"after": cursor} if cursor is not None else {})).json()
        seen += [p["id"] for p in page["people"]]
        cursor = page["next"]
        if cursor is None:
            break
        assert page["count"] == 60
    # Every person once, in the order they appeared, across write keys.
    assert seen == [f"u{i}" for i in range(250)] + ["u-b", "u250"]

    one_key = client.get("/mockpipe/people", writeKey="key-a", after=first["next"], limit=1000).json()
    assert (one_key["count"], one_key["total"], one_key["next"]) == (151, 251, None)
    searched = client.get("/mockpipe/people", q="u24").json()
    assert [p["id"] for p in searched["people"]] == ["u24"] + [f"u24{i}" for i in range(10)]  # any id containing it
    assert (searched["total"], searched["next"]) == (11, None)
    assert client.get("/mockpipe/people", q="@").json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ({"limit": 0}, "limit must be an integer from 1 to 1000"),
        ({"limit": 1001}, "limit must be an integer from 1 to 1000"),
        ({"limit": "ten"}, "limit='ten': not an integer"),
        ({"after": -1}, "after must be a cursor"),
        ({"userId": "u1"}, "unknown query parameter(s) userId"),
    ],
)
def test_bad_paging_is_refused(client: Client, query: dict[str, Any], complaint: str) -> None:
    for path in ("/mockpipe/people", "/mockpipe/objects"):
        answer = client.get(path, **query)
        assert answer.status_code == 400 and answer.json()["code"] == "query.invalid"
        assert complaint in answer.json()["message"]


def test_objects_come_in_pages(client: Client) -> None:
    ok(
        client.post(
            "/v1/batch",
            {
                "batch": [
                    {"type": "group", "userId": "u1", "groupId": f"g{i}", "objectTypeId": str(1 + i % 2)}
                    for i in range(30)
                ]
            },
        )
    )
    page = client.get("/mockpipe/objects", limit=10).json()
    assert (page["count"], page["total"]) == (10, 30) and page["next"] is not None
    rest = client.get("/mockpipe/objects", after=page["next"], limit=100).json()
    assert [o["objectId"] for o in page["objects"] + rest["objects"]] == [f"g{i}" for i in range(30)]
    assert rest["next"] is None
    assert client.get("/mockpipe/objects/2", limit=5).json()["total"] == 15


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
