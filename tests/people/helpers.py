"""Helpers of the people tests: fixed times, and reads of the people API that check the status."""

from __future__ import annotations

from typing import Any

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


def track(client: Client, event: str, **fields: Any) -> None:
    ok(client.post("/v1/track", {"event": event, **fields}))
