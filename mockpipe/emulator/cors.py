"""CORS for browser SDKs whose page is on another origin than the API.

analytics-next sends `Authorization`, which forces a preflight; the Customer.io bundle sends simple
`text/plain` posts. Both need `Access-Control-Allow-Origin` on the answer, or the fetch fails and
the SDK treats the call as a network error. Preflights are answered 200, never 204.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mockpipe.emulator.ingest import adding_headers, allow_origin as _allow_origin

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

ALLOW_METHODS = b"GET, POST, DELETE, OPTIONS"
DEFAULT_ALLOW_HEADERS = b"authorization, content-type, content-encoding, x-strict-mode, x-retry-count"
MAX_AGE = b"86400"


class CORSMiddleware:
    """Answer every preflight and add the CORS headers to every response, for any origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = None
        requested_headers = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-headers":
                requested_headers = value
        if origin is not None and not _open_to(scope["path"], origin):
            # A page elsewhere on the web must not read or wipe the journal (payloads carry personal data):
            # the answer names this server's own origin, which the browser finds is not the page's.
            cors = [(b"access-control-allow-origin", _own_origin(scope)), (b"vary", b"Origin")]
        else:
            cors = _allow_origin(origin)
        if scope["method"] == "OPTIONS":  # no route takes OPTIONS: every one is answered as a preflight
            allow = [
                (b"access-control-allow-methods", ALLOW_METHODS),
                (b"access-control-allow-headers", requested_headers or DEFAULT_ALLOW_HEADERS),
                (b"access-control-max-age", MAX_AGE),
                (b"content-type", b"application/json"),
                (b"content-length", b"2"),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": cors + allow})
            await send({"type": "http.response.body", "body": b"{}"})
            return

        await self.app(scope, receive, adding_headers(cors, send))


# Paths any origin may call: what the SDKs reach from a page (tracking, settings). The rest (the
# inspection API, the UI) answers cross-origin requests only from pages served on this machine.
OPEN_PREFIXES = ("/v1/", "/segment/")
LOCAL_HOSTS = frozenset(("localhost", "127.0.0.1", "::1"))


def _open_to(path: str, origin: bytes) -> bool:
    if path.startswith(OPEN_PREFIXES):
        return True
    host = urlsplit(origin.decode("latin-1")).hostname or ""
    return host in LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost")


def _own_origin(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"host":
            scheme: str = scope.get("scheme", "http")
            return scheme.encode() + b"://" + bytes(value)
    return b"null"
