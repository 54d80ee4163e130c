"""How each call changes people and objects, through a real server over HTTP: each semantic of the seed."""

from __future__ import annotations

from typing import Any

import pytest

from mockpipe.people.model import People
from tests.conftest import Client
from tests.people.helpers import T1, T2, T3, missing, ok, person, track

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


def test_a_time_that_is_no_date_counts_as_the_time_the_call_arrived(client: Client) -> None:
    ok(client.post("/v1/track", {"userId": "u1", "event": "Odd", "timestamp": "last tuesday"}))
    received = client.get("/mockpipe/calls").json()["calls"][0]["receivedAt"]
    found = person(client, "u1")
    assert (found["firstSeen"], found["lastSeen"], found["events"][0]["timestamp"]) == (received, received, received)


def test_page_and_screen_views_are_activity_while_anonymous_and_after(client: Client) -> None:
    # Page and screen views made before anything else knew the person were dropped.
    ok(client.post("/v1/page", {"anonymousId": "a1", "name": "Home", "timestamp": T1}))
    ok(client.post("/v1/screen", {"anonymousId": "a1", "name": "Welcome", "timestamp": T1}))
    assert [e["name"] for e in person(client, "a1")["events"]] == ["Home", "Welcome"]
    ok(client.post("/v1/page", {"anonymousId": "a2", "name": "Pricing", "timestamp": T1}))  # another device
    ok(client.post("/v1/identify", {"anonymousId": "a1", "userId": "u1", "timestamp": T2}))
    ok(client.post("/v1/alias", {"previousId": "a2", "userId": "u1", "timestamp": T2}))
    ok(client.post("/v1/page", {"userId": "u1", "name": "Account", "timestamp": T3}))
    ok(client.post("/v1/screen", {"userId": "u1", "name": "Settings", "timestamp": T3}))
    ok(client.post("/v1/page", {"userId": "u9", "name": "Docs", "timestamp": T3}))  # known by a page view only

    found = person(client, "u1")
    assert [(e["type"], e["name"]) for e in found["events"]] == [
        ("page", "Home"),
        ("screen", "Welcome"),
        ("page", "Pricing"),
        ("page", "Account"),
        ("screen", "Settings"),
    ]
    assert (found["firstSeen"], found["lastSeen"]) == (T1, T3)
    assert person(client, "a2") == found
    assert [e["name"] for e in person(client, "u9")["events"]] == ["Docs"]
    summary = {p["id"]: p["eventCount"] for p in client.get("/mockpipe/people").json()["people"]}
    assert summary == {"u1": 5, "u9": 1}
