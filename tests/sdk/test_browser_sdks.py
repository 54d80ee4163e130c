"""The two browser bundles in headless Chromium: the page on http://127.0.0.1:A, the API and settings on
http://localhost:B, so every request crosses origins and mockpipe's CORS answers are what let them
through. Skipped, with the reason, where Chromium, the bundles or Playwright are missing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

import pytest

from mockpipe import MockPipeServer, RequestQuery
from tests.sdk.browser import drive
from tests.sdk.test_python_sdks import FOUND_WITHIN
from tests.support.golden import assert_matches_recording, machine_values
from tests.support.sdk_scenario import BROWSER_SDKS, SDKS, check_scenario, flush_to_journal, send_browser

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from tests.support.sdk_scenario import RecordProperty

SHORT_PATHS = {
    "identify": "/v1/i",
    "track": "/v1/t",
    "page": "/v1/p",
    "screen": "/v1/s",
    "group": "/v1/g",
    "alias": "/v1/a",
}


class Exchange(NamedTuple):
    method: str
    path: str
    origin: str | None
    status: int
    headers: dict[str, str]


class Exchanges:
    """ASGI middleware, outermost: every request the browser made and how it was answered (preflights
    are answered by mockpipe's CORS middleware and never reach the journal)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[Exchange] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = dict(scope["headers"]).get(b"origin")

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = {name.decode(): value.decode() for name, value in message.get("headers", ())}
                self.seen.append(
                    Exchange(
                        scope["method"], scope["path"], origin.decode() if origin else None, message["status"], headers
                    )
                )
            await send(message)

        await self.app(scope, receive, remember)


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    reason = drive.missing()
    if reason:
        pytest.skip(reason)
    with drive.page_server() as url:
        yield url


@pytest.mark.parametrize("name", BROWSER_SDKS)
def test_browser_bundle_sends_the_whole_scenario_across_origins(
    pages: str,
    name: str,
    record_property: RecordProperty,
) -> None:
    key = f"sdk_{uuid.uuid4().hex[:12]}"
    server = MockPipeServer()
    server.app.add_middleware(Exchanges)  # outermost user middleware: sees what mockpipe's CORS answers
    with server:
        latency = flush_to_journal(server, key, send_browser(name, pages, f"http://localhost:{server.port}", key))
        calls = server.calls(write_key=key)
        requests = server.requests(RequestQuery(write_key=key))
        exchanges = _exchanges(server)
    record_property("flush_to_journal_ms", round(latency * 1000, 3))
    assert latency < FOUND_WITHIN

    check_scenario(name, calls)
    segment = SDKS[name].driver_name == "segment"
    # One POST per call to the short endpoints; Segment authenticates with Basic, Customer.io with the body.
    assert sorted(r.path for r in requests) == sorted(SHORT_PATHS.values())
    assert {(r.auth, r.status) for r in requests} == {("basic" if segment else "body", 200)}
    assert {call.payload["writeKey"] for call in calls} == {key}

    page_origin = f"http://127.0.0.1:{urlsplit(pages).port}"
    settings = f"{'/segment' if segment else ''}/v1/projects/{key}/settings"
    assert [(e.method, e.status) for e in exchanges if e.path == settings] == [("GET", 200)]
    posts = [e for e in exchanges if e.method == "POST"]
    assert all(e.origin == page_origin and e.headers["access-control-allow-origin"] == page_origin for e in posts)
    preflights = [e for e in exchanges if e.method == "OPTIONS"]
    if segment:  # its Authorization header makes every cross-origin POST need a preflight first
        assert {e.path for e in preflights} == set(SHORT_PATHS.values())
        for preflight in preflights:
            assert preflight.status == 200
            assert preflight.headers["access-control-allow-origin"] == page_origin
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            assert "POST" in preflight.headers["access-control-allow-methods"]
    else:  # text/plain posts without credentials are simple requests: no preflight
        assert preflights == []

    replacements = machine_values(write_key=key, name=name, api_port=server.port, page_port=urlsplit(pages).port)
    assert_matches_recording(name, calls, replacements)


def _exchanges(server: MockPipeServer) -> list[Exchange]:
    """What the `Exchanges` middleware of this server saw (Starlette builds the middleware itself)."""
    middleware = server.app.middleware_stack
    while middleware is not None and not isinstance(middleware, Exchanges):
        middleware = getattr(middleware, "app", None)
    assert middleware is not None, "the Exchanges middleware is not in the server's stack"
    return list(middleware.seen)
