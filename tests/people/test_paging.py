"""People and objects come in pages: the HTTP lists' cursors and totals, and the refused paging."""

from __future__ import annotations

from typing import Any

import pytest

from mockpipe.people.paging import MAX_PAGE_SIZE, cut_page
from tests.conftest import Client
from tests.people.helpers import ok


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
        ({"limit": 0}, "limit='0': expected a whole number >= 1"),
        ({"limit": "ten"}, "limit='ten': expected a whole number >= 1"),
        ({"after": -1}, "after='-1': expected a whole number >= 0"),
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


def test_cut_page_hands_out_the_next_cursor_until_the_last_page() -> None:
    rows = list(range(1, 8))
    page, cursor = cut_page(iter(rows), None, 3, lambda row: row)
    assert (page, cursor) == ([1, 2, 3], 3)
    page, cursor = cut_page(iter(rows), cursor, 3, lambda row: row)
    assert (page, cursor) == ([4, 5, 6], 6)
    assert cut_page(iter(rows), cursor, 3, lambda row: row) == ([7], None)
    assert cut_page(iter(rows), None, 7, lambda row: row) == (rows, None)  # exactly full: no next page


def test_a_limit_over_the_page_size_is_capped() -> None:
    rows = list(range(1, MAX_PAGE_SIZE + 10))
    page, cursor = cut_page(iter(rows), None, MAX_PAGE_SIZE + 1, lambda row: row)
    assert (len(page), cursor) == (MAX_PAGE_SIZE, MAX_PAGE_SIZE)


@pytest.mark.parametrize(("after", "limit"), [(None, 0), (None, True), (-1, 10), (True, 10)])
def test_cut_page_refuses_bad_limits_and_cursors(after: Any, limit: Any) -> None:
    with pytest.raises(ValueError, match=r"limit must be|after must be"):
        cut_page(iter([1]), after, limit, lambda row: row)
