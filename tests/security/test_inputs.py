"""Every answer of 5xx to client input that the attack run of issue 13 found, against a real server.

Each case is reproduced as it was reported; those whose fix belongs to another part of the issue are
marked `xfail(strict=True)` and turn green (then fail as XPASS, to be unmarked) when that part lands.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest

from mockpipe import MockPipeServer
from tests.security.conftest import address_of
from tests.security.raw_http import basic, exchange, request_bytes

if TYPE_CHECKING:
    from pathlib import Path

HUGE_ID = "9" * 5000  # past Python's 4300-digit limit of int(str)
TOO_LARGE_FOR_SQLITE = str(2**63)


def _post(http: httpx.Client, path: str, body: object, key: str) -> None:
    answer = http.post(path, json=body, headers={"Authorization": basic(key)})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/mockpipe/calls/{HUGE_ID}"),
        ("GET", f"/mockpipe/requests/{HUGE_ID}"),
        ("DELETE", f"/mockpipe/faults/{HUGE_ID}"),
        ("GET", f"/mockpipe/calls/{'0' * 5000}1"),  # leading zeros count towards the limit too
        ("GET", f"/mockpipe/calls/{TOO_LARGE_FOR_SQLITE}"),
        ("GET", f"/mockpipe/requests/{TOO_LARGE_FOR_SQLITE}"),
        ("GET", "/mockpipe/calls/%D9%A3"),  # an Arabic-Indic digit: str.isdigit() says yes
        ("GET", "/mockpipe/calls/-1"),
        ("GET", f"/mockpipe/people/{HUGE_ID}"),
        ("GET", f"/mockpipe/objects/{HUGE_ID}/{HUGE_ID}"),
        ("GET", f"/mockpipe/sources/{HUGE_ID}"),
    ],
)
def test_huge_and_odd_ids_in_paths_are_not_found(http: httpx.Client, method: str, path: str) -> None:
    answer = http.request(method, path)
    assert answer.status_code in (200, 404), answer.text  # a source of an unknown key is an empty source
    if answer.status_code == 404:
        body = answer.json()
        assert body["code"] == "not_found"
        assert len(body["message"]) < 200  # the id is not echoed in full


def test_huge_ids_on_a_store_are_not_found(tmp_path: Path) -> None:
    # The store's integers are 64 bits: a larger id must not reach SQLite (OverflowError).
    with MockPipeServer(store=tmp_path / "journal.db") as server, httpx.Client(base_url=server.url) as http:
        _post(http, "/v1/track", {"userId": "u1", "event": "E"}, "k1")
        for path in (f"/mockpipe/calls/{TOO_LARGE_FOR_SQLITE}", f"/mockpipe/requests/{HUGE_ID}"):
            assert http.get(path).status_code == 404
        assert http.get("/mockpipe/calls/1").status_code == 200
        assert http.get("/mockpipe/calls/0001").json()["id"] == 1  # as the int route read it before


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"{}" + b"}" * depth


@pytest.mark.parametrize("depth", [300, 1000, 5000])
def test_a_fault_body_nested_deep_is_refused_with_the_reason(http: httpx.Client, depth: int) -> None:
    answer = http.post(
        "/mockpipe/faults",
        content=b'{"status": 503, "body": ' + _nested(depth) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "fault.invalid"
    assert "nested" in answer.json()["message"] or "depth" in answer.json()["message"]
    assert http.get("/mockpipe/faults").json()["count"] == 0  # nothing installed
    assert http.post("/v1/track", json={"userId": "u1", "event": "E"}, headers={"Authorization": basic("k")}).is_success


def test_a_fault_body_at_the_depth_limit_is_set_and_listed(http: httpx.Client) -> None:
    from mockpipe.emulator.fault_specs import MAX_BODY_DEPTH

    answer = http.post(
        "/mockpipe/faults",
        content=b'{"status": 503, "body": ' + _nested(MAX_BODY_DEPTH - 1) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.text
    assert http.get("/mockpipe/faults").status_code == 200  # the listing wraps the body deeper still
    assert (
        http.post("/v1/track", json={"event": "E", "userId": "u"}, headers={"Authorization": basic("k")}).status_code
        == 503
    )


def _interleaved_people_and_objects(http: httpx.Client) -> None:
    """Three write keys, each with people and objects, their calls interleaved; `shared` is under two keys."""
    for round_ in range(2):
        for key in ("k1", "k2", "k3"):
            user = f"{key}-user{round_}"
            _post(http, "/v1/identify", {"userId": user, "traits": {"email": f"{user}@example.com"}}, key)
            _post(http, "/v1/group", {"userId": user, "groupId": f"{key}-org{round_}", "traits": {"n": round_}}, key)
    for key in ("k1", "k3"):
        _post(http, "/v1/identify", {"userId": "shared"}, key)
        _post(http, "/v1/group", {"userId": "shared", "groupId": "org-shared", "objectTypeId": "2"}, key)


def test_people_and_objects_of_three_interleaved_write_keys(http: httpx.Client) -> None:
    _interleaved_people_and_objects(http)

    objects = http.get("/mockpipe/objects")
    assert objects.status_code == 200, objects.text  # was a KeyError with two keys or more
    listed = [(o["writeKey"], o["objectTypeId"], o["objectId"]) for o in objects.json()["objects"]]
    expected = [(key, "1", f"{key}-org{n}") for n in range(2) for key in ("k1", "k2", "k3")]
    assert listed == [*expected, ("k1", "2", "org-shared"), ("k3", "2", "org-shared")]
    assert objects.json()["total"] == 8
    for key in ("k1", "k2", "k3"):
        own = http.get("/mockpipe/objects", params={"writeKey": key}).json()["objects"]
        assert {o["writeKey"] for o in own} == {key}
        assert all(p["id"].startswith(key) or p["id"] == "shared" for o in own for p in o["people"])
    assert [o["writeKey"] for o in http.get("/mockpipe/objects/2").json()["objects"]] == ["k1", "k3"]

    people = http.get("/mockpipe/people").json()
    listed_people = [(p["writeKey"], p["id"]) for p in people["people"]]
    expected_people = [(key, f"{key}-user{n}") for n in range(2) for key in ("k1", "k2", "k3")]
    assert listed_people == [*expected_people, ("k1", "shared"), ("k3", "shared")]
    for key in ("k1", "k2", "k3"):
        own = http.get("/mockpipe/people", params={"writeKey": key}).json()
        assert {p["writeKey"] for p in own["people"]} == {key}  # was: everyone, under the last key
        assert own["total"] == len(own["people"]) == (3 if key != "k2" else 2)

    # Paging across the keys: every person once, in the same order.
    paged, after = [], None
    while True:
        params = {"limit": 3, **({"after": after} if after is not None else {})}
        page = http.get("/mockpipe/people", params=params).json()
        paged += [(p["writeKey"], p["id"]) for p in page["people"]]
        after = page["next"]
        if after is None:
            break
    assert paged == listed_people


def test_the_ui_people_links_resolve(http: httpx.Client) -> None:
    # The People tab links each row to /mockpipe/people/{id}?writeKey={writeKey} (ui/app.js), and each
    # object's people to the same with the object's write key.
    _interleaved_people_and_objects(http)
    for person in http.get("/mockpipe/people").json()["people"]:
        link = f"/mockpipe/people/{quote(person['id'], safe='')}"
        detail = http.get(link, params={"writeKey": person["writeKey"]})
        assert detail.status_code == 200, (person, detail.text)
        assert detail.json()["writeKey"] == person["writeKey"]
    for found in http.get("/mockpipe/objects").json()["objects"]:
        link = f"/mockpipe/objects/{found['objectTypeId']}/{quote(found['objectId'], safe='')}"
        assert http.get(link, params={"writeKey": found["writeKey"]}).status_code == 200
        for related in found["people"]:
            link = f"/mockpipe/people/{quote(related['id'], safe='')}"
            assert http.get(link, params={"writeKey": found["writeKey"]}).status_code == 200
    # Without a key, an id under two keys is ambiguous (409), not a 500.
    assert http.get("/mockpipe/people/shared").status_code == 409


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("timeout=abc", "timeout"),
        ("timeout=", "timeout"),
        ("timeout=nan", "timeout"),
        ("timeout=inf", "timeout"),
        ("timeout=-1", "timeout"),
        ("count=abc", "count"),
        ("count=1.5", "count"),
        (f"count={HUGE_ID}", "count"),
        ("count=-1", "count"),
        ("count=1&timeout=0&userId=u&after=x", "after"),
    ],
)
def test_bad_wait_parameters_are_refused_naming_them(http: httpx.Client, query: str, named: str) -> None:
    answer = http.get(f"/mockpipe/calls/wait?{query}")
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "query.invalid"
    assert named in answer.json()["message"]
    assert "could not convert" not in answer.json()["message"]
    assert len(answer.json()["message"]) < 300


@pytest.mark.parametrize("name", ["after", "limit"])
@pytest.mark.parametrize("path", ["/mockpipe/calls", "/mockpipe/requests", "/mockpipe/people", "/mockpipe/objects"])
def test_huge_paging_parameters_are_refused(http: httpx.Client, path: str, name: str) -> None:
    answer = http.get(path, params={name: HUGE_ID})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "query.invalid"
    assert name in answer.json()["message"]


# -- cases fixed by the other parts of issue 13 ------------------------------------------------


@pytest.mark.parametrize("pause", [0.0, 0.05], ids=["end with the bytes", "end read on its own"])
@pytest.mark.parametrize("strict", [False, True])
def test_a_body_that_ends_early_is_answered_and_journaled_as_rejected(strict: bool, pause: float) -> None:
    with MockPipeServer(strict=strict) as server, httpx.Client(base_url=server.url) as http:
        head = {"Authorization": basic("k1"), "Content-Type": "application/json", "Content-Length": "1000"}
        data = request_bytes("POST", "/v1/track", b'{"userId":"u1","event":"E"', head)
        # Then half-closes: no more will come. With a pause, the end of the stream is read on its own, which
        # Hypercorn's HTTP layer used to answer with an empty 400 of its own: mockpipe's answer wins now.
        answer = exchange(address_of(server), data, pause=pause, split_at=len(data))
        assert answer.status == (400 if strict else 200), answer.raw
        if strict:
            assert b"request.incomplete" in answer.body
        else:
            assert answer.body == b"{}"
        requests = http.get("/mockpipe/requests").json()["requests"]
        assert len(requests) == 1
        assert requests[0]["accepted"] is False
        assert requests[0]["reason"] == "request.incomplete"


def test_a_damaged_store_row_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server, httpx.Client(base_url=server.url) as http:
        for number in range(3):
            _post(http, "/v1/track", {"userId": "u1", "event": f"E{number}"}, "k1")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE calls SET raw = x'ff00fe' WHERE id = 2")  # not UTF-8, not JSON
    with MockPipeServer(store=path) as server, httpx.Client(base_url=server.url) as http:
        answer = http.get("/mockpipe/calls")
        assert answer.status_code == 200, answer.text
        assert [call["id"] for call in answer.json()["calls"]] == [1, 3]
        assert http.get("/mockpipe/calls/2").status_code == 404
        assert http.get("/mockpipe/health").json()["damagedRows"] == 1


def test_a_wait_for_more_calls_than_a_page_answers_one_page(http: httpx.Client) -> None:
    batch = {"batch": [{"type": "track", "userId": "u1", "event": f"E{n}"} for n in range(1500)]}
    _post(http, "/v1/batch", batch, "k1")
    answer = http.get("/mockpipe/calls/wait", params={"count": 1_000_000_000, "timeout": 0})
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["calls"]) < 1500
    assert body["total"] == 1500
    assert body["next"] is not None
