"""The cross-origin and rebinding cases of issue 13, with raw HTTP (what a browser would send for a page
on another site). The host/origin guard of issue 13 fixes them: until it lands they are expected to fail.

Codes and statuses are the ones the issue's brief fixed: `host.forbidden` and `origin.forbidden` (403),
`content_type.unsupported` (415).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.security.raw_http import basic

if TYPE_CHECKING:
    from mockpipe import MockPipeServer

GUARD = "issue 13: host/origin guard of /mockpipe/"
FOREIGN_ORIGINS = ["http://127.evil.example", "http://127.0.0.1.nip.io", "https://evil.example", "null"]


def _identify(http: httpx.Client) -> None:
    answer = http.post(
        "/v1/identify",
        json={"userId": "u1", "traits": {"email": "u1@example.com"}},
        headers={"Authorization": basic("k1")},
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_foreign_origin_cannot_read_the_journal(http: httpx.Client, origin: str) -> None:
    _identify(http)
    answer = http.get("/mockpipe/calls", headers={"Origin": origin})
    assert answer.headers.get("access-control-allow-origin") != origin
    assert answer.status_code == 403  # refused before the work, not only unreadable
    assert answer.json()["code"] == "origin.forbidden"
    assert b"u1@example.com" not in answer.content


@pytest.mark.parametrize("host", ["evil.example", "rebind.evil.example:8080", "127.0.0.1.nip.io"])
def test_a_rebinding_host_reaches_nothing(http: httpx.Client, host: str) -> None:
    _identify(http)
    for path in ("/mockpipe/calls", "/mockpipe/people", "/mockpipe/ui"):
        answer = http.get(path, headers={"Host": host})
        assert answer.status_code == 403, path
        assert answer.json()["code"] == "host.forbidden"
        assert "--allow-host" in answer.json()["message"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_simple_post_installs_no_fault(target: MockPipeServer, http: httpx.Client, content_type: str) -> None:
    answer = http.post(
        "/mockpipe/faults", content=b'{"status": 503, "all": true}', headers={"Content-Type": content_type}
    )
    assert answer.status_code == 415
    assert answer.json()["code"] == "content_type.unsupported"
    assert target.emulator.faults.rules() == []


def test_a_foreign_origin_cannot_clear_the_journal(target: MockPipeServer, http: httpx.Client) -> None:
    _identify(http)
    answer = http.delete("/mockpipe/calls", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert len(target.journal) == 1


@pytest.mark.parametrize("origin", [*FOREIGN_ORIGINS, "http://localhost:3000"])
def test_tracking_stays_open_to_every_origin(http: httpx.Client, origin: str) -> None:
    # Browser SDKs post from any page: the guard must not close the tracking endpoints.
    answer = http.post(
        "/v1/track",
        content=b'{"userId":"u1","event":"E"}',
        headers={"Origin": origin, "Content-Type": "text/plain", "Authorization": basic("k1")},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
