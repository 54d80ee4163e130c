"""The web UI: static files of `mockpipe/ui/` at `/mockpipe/ui`, its live feed, and the root page.

No build step and nothing fetched from elsewhere: the page, its script and its style ship in the
package. A strict Content-Security-Policy backs up the script's rule of never parsing payload data
as HTML: even a value that slipped through could not run a script.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mockpipe.emulator.responses import not_found
from mockpipe.version import __version__

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request

    from mockpipe.emulator.live_feed import LiveEvent, LiveFeed

RECONNECT_MS = 1000  # the `retry:` of the first event: how soon a browser reconnects to a stream that ended
KEEPALIVE_SECONDS = 15.0  # a comment line this often keeps proxies and browsers from closing an idle stream
UI_PATH = "/mockpipe/ui"
EVENTS_PATH = "/mockpipe/events"
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "contract.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_UI_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
}


def _asset(name: str) -> bytes:
    return resources.files("mockpipe.emulator").joinpath("ui", name).read_bytes()


class WebUI:
    """The page, its assets, the SSE feed (`/mockpipe/events`) and `/`."""

    def __init__(self, live: LiveFeed) -> None:
        self.live = live
        self._assets: dict[str, bytes] = {}

    def routes(self) -> list[Route]:
        return [
            Route("/", self.root, methods=["GET"]),
            Route(UI_PATH, self.page, methods=["GET"]),
            Route(UI_PATH + "/", self.page, methods=["GET"]),
            Route(UI_PATH + "/{name}", self.asset, methods=["GET"]),
            Route(EVENTS_PATH, self.events, methods=["GET"]),
        ]

    async def root(self, request: Request) -> Response:
        """Browsers go to the UI; other clients learn where things are."""
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(UI_PATH, status_code=307)
        return JSONResponse(
            {
                "name": "mockpipe",
                "version": __version__,
                "ui": UI_PATH,
                "calls": "/mockpipe/calls",
                "people": "/mockpipe/people",
                "health": "/mockpipe/health",
                "track": "/v1/track",
            }
        )

    def _serve(self, name: str) -> Response:
        body = self._assets.get(name)
        if body is None:
            body = self._assets[name] = _asset(name)
        return Response(body, media_type=ASSETS[name], headers=_UI_HEADERS)

    async def page(self, request: Request) -> Response:
        return self._serve("index.html")

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return not_found(f"nothing at {request.url.path}")
        return self._serve(name)

    async def events(self, request: Request) -> EventSourceResponse:
        """The live feed as Server-Sent Events; the stream ends on a shutdown (`Emulator.begin_shutdown`)."""
        return EventSourceResponse(
            _server_sent(self.live.stream()),
            headers={"Cache-Control": "no-cache"},
            ping=KEEPALIVE_SECONDS,
            ping_message_factory=_keep_alive,
            sep="\n",
        )


async def _server_sent(events: AsyncIterator[LiveEvent]) -> AsyncIterator[ServerSentEvent]:
    async for event in events:
        yield ServerSentEvent(
            event.data.decode(),
            event=event.kind,
            id=str(event.id) if event.kind == "call" else None,  # a reconnect gets a new hello all the same
            retry=RECONNECT_MS if event.kind == "hello" else None,
            sep="\n",
        )


def _keep_alive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive", sep="\n")
