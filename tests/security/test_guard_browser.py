"""A page on another site, in headless Debian Chromium, against a running mockpipe: it can neither read
nor change anything under `/mockpipe/`, by fetch (cors and no-cors), beacon, HTML forms or DNS
rebinding. A page on this machine, the control, can: so the attempts are real ones.

Foreign names resolve to 127.0.0.1 by Chromium's `--host-resolver-rules` (the page is served by a tiny
HTTP server on 127.0.0.1, reached as `http://evil.example:PORT`). Skipped, with the reason, where
Chromium or Playwright is missing (`.ci/install-sdks.sh` installs both).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx
import pytest

from mockpipe import MockPipeServer
from tests.conftest import basic

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHROMIUM = "/usr/bin/chromium"
FOREIGN_NAMES = ("evil.example", "127.evil.example", "127.0.0.1.nip.io")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=" + ", ".join(f"MAP {name} 127.0.0.1" for name in FOREIGN_NAMES),
]
TIMEOUT_MS = 15000
ATTACK_PAGE = (Path(__file__).parent / "attack_page.html").read_bytes()
SECRET = "ada@example.com"

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (run .ci/install-sdks.sh)", allow_module_level=True)
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    pytest.skip("playwright (the Python package) is not installed: pip install playwright", allow_module_level=True)


class Seen(NamedTuple):
    method: str
    path: str
    query: str
    host: str
    status: int


class Recorder:
    """ASGI middleware, outermost: what reached mockpipe and how it answered. It also answers
    `GET /attack` with the attack page, as the attacker's server did before the name was rebound."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/attack":
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"%d" % len(ATTACK_PAGE))]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": ATTACK_PAGE})
            return
        host = dict(scope["headers"]).get(b"host", b"").decode()

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                query = scope["query_string"].decode()
                self.seen.append(Seen(scope["method"], scope["path"], query, host, message["status"]))
            await send(message)

        await self.app(scope, receive, remember)


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(ATTACK_PAGE)))
        self.end_headers()
        self.wfile.write(ATTACK_PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_port() -> Iterator[int]:
    """A server of the attack page on 127.0.0.1, whatever name the browser reaches it by."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    opened.close()


@pytest.fixture
def server() -> Iterator[MockPipeServer]:
    running = MockPipeServer()
    running.app.add_middleware(Recorder)
    with running:
        answer = httpx.post(
            running.url_for("/v1/identify"), json={"userId": "u1", "traits": {"email": SECRET}}, headers=basic("wk")
        )
        assert answer.status_code == 200
        yield running


def recorded(server: MockPipeServer) -> list[Seen]:
    middleware = server.app.middleware_stack
    while middleware is not None and not isinstance(middleware, Recorder):
        middleware = getattr(middleware, "app", None)
    assert middleware is not None
    return list(middleware.seen)


def attack(context: BrowserContext, page_url: str, server: MockPipeServer) -> list[dict[str, Any]]:
    page = context.new_page()
    page.goto(page_url)
    results: list[dict[str, Any]] = page.evaluate("window.attack()")
    deadline = time.monotonic() + 3  # the beacon goes out on its own time
    while time.monotonic() < deadline and not any(seen.query == "beacon=1" for seen in recorded(server)):
        time.sleep(0.05)
    page.close()
    return results


def assert_unchanged_and_unread(server: MockPipeServer, results: list[dict[str, Any]]) -> None:
    assert server.faults.rules() == [], results
    assert [call.payload["traits"]["email"] for call in server.calls()] == [SECRET]
    assert (
        httpx.post(server.url_for("/v1/track"), json={"userId": "u1", "event": "E"}, headers=basic("wk")).status_code
        == 200
    )
    assert not any(SECRET in str(result) for result in results), results


@pytest.mark.parametrize("name", FOREIGN_NAMES)
def test_a_page_on_another_site_can_neither_read_nor_change(
    context: BrowserContext, server: MockPipeServer, page_port: int, name: str
) -> None:
    results = attack(context, f"http://{name}:{page_port}/attack?api={server.url}", server)
    assert_unchanged_and_unread(server, results)
    by_name = {result["name"]: result for result in results}
    assert "error" in by_name["read"] and "error" in by_name["wipe"]  # CORS: the browser shows it nothing
    assert by_name["read no-cors"]["type"] == "opaque" and by_name["read no-cors"]["text"] == ""
    # What reached the server under /mockpipe/ was refused, forms and no-cors posts included.
    reached = [seen for seen in recorded(server) if seen.path.startswith("/mockpipe/")]
    assert {seen.method for seen in reached} >= {"GET", "POST", "OPTIONS"}
    assert all(seen.status in (403, 415) for seen in reached), reached
    assert sum(seen.method == "POST" for seen in reached) >= 4  # text/plain fetch and the three forms


def test_a_rebinding_page_can_neither_read_nor_change(context: BrowserContext, server: MockPipeServer) -> None:
    # After DNS rebinding, evil.example (the page's own name) resolves to mockpipe: same-origin to the
    # browser, so only the Host check stands. (A page Chromium had from a public address would not even
    # reach a loopback one: its Local Network Access checks. Other browsers have none.)
    own = f"http://evil.example:{server.port}"
    results = attack(context, f"{own}/attack?api=", server)
    assert_unchanged_and_unread(server, results)
    by_name = {result["name"]: result for result in results}
    assert by_name["read"]["status"] == 403 and "host.forbidden" in by_name["read"]["text"]
    reached = [seen for seen in recorded(server) if seen.path.startswith("/mockpipe/")]
    assert reached and all(seen.host == f"evil.example:{server.port}" and seen.status == 403 for seen in reached)
    assert {"GET", "POST", "DELETE"} <= {seen.method for seen in reached}


def test_a_page_on_this_machine_can(context: BrowserContext, server: MockPipeServer, page_port: int) -> None:
    # The control: the same page on localhost reads the journal and sets a fault with JSON, but its
    # form and text/plain posts are still refused (415), and it can clear what it set.
    results = attack(context, f"http://localhost:{page_port}/attack?api={server.url}", server)
    by_name = {result["name"]: result for result in results}
    assert by_name["read"]["status"] == 200 and SECRET in by_name["read"]["text"]
    assert by_name["fault json"]["status"] == 201
    assert by_name["wipe"]["status"] == 200 and server.calls() == []
    assert by_name["clear faults"]["status"] == 200 and server.faults.rules() == []
    refused_posts = [s.status for s in recorded(server) if s.method == "POST" and s.path == "/mockpipe/faults"]
    assert refused_posts.count(201) == 1 and set(refused_posts) <= {201, 415}
