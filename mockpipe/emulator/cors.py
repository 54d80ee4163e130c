"""CORS for browser SDKs whose page is on another origin than the API.

analytics-next sends `Authorization`, which forces a preflight; the Customer.io bundle sends simple
`text/plain` posts. Both need `Access-Control-Allow-Origin` on the answer, or the fetch fails and
the SDK treats the call as a network error. Preflights are answered 200, never 204.

Only the tracking endpoints and the settings are open to every origin; the inspection API and the UI
answer allowed origins only (`mockpipe.emulator.guard`, which uses the helpers here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockpipe.emulator.fault_delivery import adding_headers

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import ASGIApp, Receive, Scope, Send

WILDCARD = [(b"access-control-allow-origin", b"*"), (b"vary", b"Origin")]
ALLOW_METHODS = b"GET, POST, DELETE, OPTIONS"
DEFAULT_ALLOW_HEADERS = b"authorization, content-type, content-encoding, x-strict-mode, x-retry-count"
MAX_AGE = b"86400"


def allow_origin(origin: bytes | None) -> list[tuple[bytes, bytes]]:
    """Echo the origin (so credentials work too); a request without one gets the wildcard."""
    if origin is None:
        return WILDCARD
    return [
        (b"access-control-allow-origin", origin),
        (b"vary", b"Origin"),
        (b"access-control-allow-credentials", b"true"),
    ]


class CORSMiddleware:
    """Answer every preflight and add the CORS headers to every response, for any origin, on the open
    paths (tracking, settings). The others are `mockpipe.emulator.guard`'s: it passes them through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = None
        requested_headers = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-headers":
                requested_headers = value
        cors = allow_origin(origin)
        if scope["method"] == "OPTIONS":  # no route takes OPTIONS: every one is answered as a preflight
            await preflight(send, cors, requested_headers)
            return
        await self.app(scope, receive, adding_headers(cors, send))


# Paths any origin may call: what the SDKs reach from a page (tracking, settings). The rest (the
# inspection API, the UI) is behind `mockpipe.emulator.guard`.
OPEN_PREFIXES = ("/v1/", "/segment/")


def is_open(path: str) -> bool:
    """Whether any page on the web may call this path (the tracking endpoints and browser settings)."""
    return path.startswith(OPEN_PREFIXES)


async def preflight(send: Send, cors: Sequence[tuple[bytes, bytes]], requested_headers: bytes | None) -> None:
    """Answer a preflight 200 with `cors` (the allow-origin headers, none for an origin not allowed)."""
    headers = [
        *cors,
        (b"access-control-allow-methods", ALLOW_METHODS),
        (b"access-control-allow-headers", requested_headers or DEFAULT_ALLOW_HEADERS),
        (b"access-control-max-age", MAX_AGE),
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})
