"""The web UI's HTTP side over a real server: `/`, the page and its assets, the SSE feed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.emulator.live_feed import display_name
from tests.conftest import Client


class EventStream:
    """The events of `GET /mockpipe/events`, read one at a time."""

    def __init__(self, server: MockPipeServer) -> None:
        self.http = httpx.Client(timeout=httpx.Timeout(5.0))
        self._context = self.http.stream("GET", server.url_for("/mockpipe/events"))
        self.response = self._context.__enter__()
        self._lines = self.response.iter_lines()

    def next(self) -> tuple[str, Any]:
        """The next event's name and decoded data (comments and `retry:` skipped)."""
        name, data = "message", None
        for line in self._lines:
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = orjson.loads(line[len("data: ") :])
            elif line == "" and data is not None:
                return name, data
        raise EOFError("the stream ended")

    def close(self) -> None:
        self._context.__exit__(None, None, None)
        self.http.close()


@pytest.fixture
def events(server: MockPipeServer) -> Iterator[EventStream]:
    stream = EventStream(server)
    yield stream
    stream.close()


def test_root_redirects_browsers_to_the_ui(client: Client) -> None:
    browser = client.http.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 307
    assert browser.headers["location"] == "/mockpipe/ui"
    other = client.http.get("/", headers={"Accept": "*/*"})
    assert other.status_code == 200
    assert other.json()["ui"] == "/mockpipe/ui" and other.json()["calls"] == "/mockpipe/calls"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/mockpipe/ui", "text/html"),
        ("/mockpipe/ui/", "text/html"),
        ("/mockpipe/ui/app.js", "text/javascript"),
        ("/mockpipe/ui/style.css", "text/css"),
    ],
)
def test_page_and_assets(client: Client, path: str, kind: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_page_uses_nothing_from_elsewhere(client: Client) -> None:
    page = client.get("/mockpipe/ui").text
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    script = client.get("/mockpipe/ui/app.js").text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_unknown_asset_is_404(client: Client) -> None:
    assert client.get("/mockpipe/ui/../journal.py").status_code == 404
    assert client.get("/mockpipe/ui/secret.txt").status_code == 404


def test_feed_starts_with_the_journal_then_follows_it(client: Client, server: MockPipeServer) -> None:
    client.post("/v1/track", {"userId": "u1", "event": "Before"})
    client.post("/v1/track", {"userId": "u1"})  # invalid: no event
    client.post("/v1/track", content=b"{not json")  # rejected (answered 200: permissive)
    stream = EventStream(server)
    try:
        name, hello = stream.next()
        assert name == "hello"
        assert [(c["event"], c["valid"], c["errors"]) for c in hello["calls"]] == [
            ("Before", True, 0),
            (None, False, 1),
        ]
        assert [r["reason"] for r in hello["rejected"]] == ["request.json.invalid"]
        assert hello["counts"] == {"wk_test": {"track": 2}}

        client.post(
            "/v1/batch",
            {"batch": [{"type": "identify", "userId": "u2"}, {"type": "page", "userId": "u2", "name": "<b>Home</b>"}]},
        )
        assert [stream.next() for _ in range(2)] == [stream_call(server, 3), stream_call(server, 4)]
        client.post("/v1/track", {"event": "x"}, key=None)  # no credentials
        name, rejected = stream.next()
        assert (name, rejected["reason"], rejected["writeKey"]) == ("request", "auth.missing", None)

        client.http.delete("/mockpipe/calls", params={"writeKey": "wk_test"})
        assert stream.next() == ("clear", {"writeKey": "wk_test"})
    finally:
        stream.close()


def stream_call(server: MockPipeServer, call_id: int) -> tuple[str, dict[str, Any]]:
    """The `call` event expected for a journaled call."""
    call = server.journal.call(call_id)
    assert call is not None
    return "call", {
        "id": call.id,
        "requestId": call.request_id,
        "writeKey": call.write_key,
        "type": call.type,
        "receivedAt": call.received_at,
        "valid": call.valid,
        "accepted": call.accepted,
        "event": call.event,
        "name": call.name,
        "displayName": display_name(call.type, call.payload),
        "userId": call.user_id,
        "anonymousId": call.anonymous_id,
        "messageId": call.message_id,
        "duplicateOf": call.duplicate_of,
        "errors": len(call.errors),
        "warnings": len(call.warnings),
    }


def test_stop_ends_open_streams_quickly(server: MockPipeServer, events: EventStream) -> None:
    assert events.next()[0] == "hello"
    assert server.app.emulator.live.clients == 1
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    with pytest.raises(EOFError):
        events.next()


def _raw_events(server: MockPipeServer, until: bytes, timeout: float = 5.0) -> bytes:
    """The bytes of `GET /mockpipe/events` up to and including the first occurrence of `until`."""
    seen = b""
    with httpx.stream("GET", server.url_for("/mockpipe/events"), timeout=timeout) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        for chunk in response.iter_raw():
            seen += chunk
            if until in seen:
                return seen
    raise AssertionError(f"the stream ended before {until!r}: {seen!r}")


def test_the_feed_is_framed_as_server_sent_events(server: MockPipeServer, client: Client) -> None:
    client.post("/v1/track", {"userId": "u1", "event": "Before"})
    hello = _raw_events(server, b"\n\n")
    # The first event tells the browser to reconnect after a second (the stream ends on shutdown or lag).
    assert hello.startswith(b"event: hello\ndata: {") and hello.endswith(b"}\nretry: 1000\n\n")
    assert orjson.loads(hello.split(b"\n")[1][len(b"data: ") :])["total"] == 1


def test_calls_carry_their_id(server: MockPipeServer, client: Client, events: EventStream) -> None:
    assert events.next()[0] == "hello"
    client.post("/v1/track", {"userId": "u1", "event": "After"})
    assert events.next() == stream_call(server, 1)


def test_an_idle_feed_sends_keep_alives(server: MockPipeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import mockpipe.emulator.webui as webui

    monkeypatch.setattr(webui, "KEEPALIVE_SECONDS", 0.1)
    assert _raw_events(server, b": keep-alive\n\n").count(b": keep-alive\n\n") == 1


def test_head_of_the_feed_answers_without_streaming(client: Client) -> None:
    started = time.monotonic()
    response = client.http.head("/mockpipe/events")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert time.monotonic() - started < 2.0


def test_a_client_that_goes_away_is_forgotten_at_once(server: MockPipeServer) -> None:
    stream = EventStream(server)
    assert stream.next()[0] == "hello"
    assert server.emulator.live.clients == 1
    stream.close()
    deadline = time.monotonic() + 2.0  # well before the next keep-alive would find the connection closed
    while server.emulator.live.clients and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.emulator.live.clients == 0
