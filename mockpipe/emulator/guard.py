"""The guard in front of the inspection API and the UI: every path but the tracking endpoints and the
browser settings (`cors.OPEN_PREFIXES`), which stay open to every origin because browser SDKs need them.

The journal holds people's e-mails and traits, and `/mockpipe/` can wipe it or make every call fail, so
a request is refused, before any work, when:

- its `Host` is not this machine (`origins.HostPolicy`): 403 `host.forbidden`. This stops DNS
  rebinding, where a page on `evil.example` has its name resolve to 127.0.0.1 and reads same-origin.
- it carries an `Origin` that is not allowed, or, without one, `Sec-Fetch-Site: cross-site` (except a
  top-level navigation to the UI page, a link followed from elsewhere): 403 `origin.forbidden`. An
  allowed `Origin` vouches for a cross-site request: a page on `localhost:5173` calling `127.0.0.1:4242`
  is cross-site to the browser.
- it changes state (any method but GET, HEAD, OPTIONS) with a body that is not JSON (or YAML where a
  plan is taken): 415 `content_type.unsupported`. No HTML form or CORS-simple request can send
  `application/json`, so none can reach a state change even if a browser sent no `Origin`.

Answers to allowed origins echo that origin in `Access-Control-Allow-Origin`; nothing else gets one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockpipe.emulator.cors import allow_origin, is_open, preflight
from mockpipe.emulator.fault_delivery import adding_headers
from mockpipe.emulator.origins import HostPolicy, host_name, is_loopback
from mockpipe.emulator.responses import error_response

if TYPE_CHECKING:
    from starlette.responses import JSONResponse
    from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
JSON_TYPES = frozenset(("application/json",))
YAML_TYPES = frozenset(("application/yaml", "text/yaml", "application/x-yaml"))
PLAN_PATH = "/mockpipe/plan"  # takes a tracking plan, which may be YAML
# What a link from another site may open: the UI page (and `/`, which sends browsers on to it).
UI_PAGES = frozenset(("/", "/mockpipe/ui", "/mockpipe/ui/"))
ALLOW_HOST_HINT = "start mockpipe with --allow-host NAME (repeatable)"

_WANTED = frozenset(
    (
        b"host",
        b"origin",
        b"sec-fetch-site",
        b"sec-fetch-mode",
        b"content-type",
        b"content-length",
        b"transfer-encoding",
        b"access-control-request-headers",
    )
)


class InspectionGuard:
    """ASGI middleware: refuse what `check` refuses on the guarded paths, answer their preflights, and
    add CORS headers for allowed origins. The open paths pass through untouched."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.verdicts = Verdicts(policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {name: value.decode("latin-1") for name, value in scope["headers"] if name in _WANTED}
        refusal = check(self.verdicts, scope["method"], scope["path"], headers)
        if refusal is not None:
            if _has_body(headers):
                # Refused unread: the server would drop the connection under a client that reuses it.
                refusal.headers["Connection"] = "close"
            await refusal(scope, receive, send)
            return
        origin = headers.get(b"origin")
        cors = allow_origin(origin.encode("latin-1")) if origin is not None else []
        if scope["method"] == "OPTIONS":  # no route takes OPTIONS: every one is answered as a preflight
            requested = headers.get(b"access-control-request-headers")
            await preflight(send, cors, requested.encode("latin-1") if requested is not None else None)
            return
        await self.app(scope, receive, adding_headers(cors, send) if cors else send)


class Verdicts:
    """The policy's answers, remembered per header value: a browser sends the same few again and again,
    and parsing an address takes microseconds. Bounded: endless new values only refill it."""

    LIMIT = 1024

    def __init__(self, policy: HostPolicy) -> None:
        self.policy = policy
        self._hosts: dict[str, bool] = {}
        self._origins: dict[tuple[str, str | None], bool] = {}

    def host(self, header: str) -> bool:
        verdict = self._hosts.get(header)
        if verdict is None:
            if len(self._hosts) >= self.LIMIT:
                self._hosts.clear()
            verdict = self._hosts[header] = self.policy.allows_host(host_name(header))
        return verdict

    def origin(self, origin: str, host: str | None) -> bool:
        verdict = self._origins.get((origin, host))
        if verdict is None:
            if len(self._origins) >= self.LIMIT:
                self._origins.clear()
            verdict = self._origins[origin, host] = self.policy.allows_origin(origin, own_host=host)
        return verdict


def check(verdicts: Verdicts, method: str, path: str, headers: dict[bytes, str]) -> JSONResponse | None:
    """The refusal of a request to a guarded path (`headers`: lower-case names, decoded), or None."""
    host = headers.get(b"host")
    # No Host at all (HTTP/1.0) cannot come from a browser, and only a browser can be rebound.
    if host is not None and not verdicts.host(host):
        return _forbidden_host(host, verdicts.policy)
    origin = headers.get(b"origin")
    if origin is not None:
        if not verdicts.origin(origin, host):
            return _forbidden_origin(f"a page on {origin!r}", path)
    elif headers.get(b"sec-fetch-site") == "cross-site" and not _navigation_to_ui(method, path, headers):
        return _forbidden_origin("a cross-site request", path)
    if method not in SAFE_METHODS:
        return _unsupported_body(method, path, headers)
    return None


def _navigation_to_ui(method: str, path: str, headers: dict[bytes, str]) -> bool:
    return method == "GET" and path in UI_PAGES and headers.get(b"sec-fetch-mode") == "navigate"


def _unsupported_body(method: str, path: str, headers: dict[bytes, str]) -> JSONResponse | None:
    content_type = headers.get(b"content-type")
    accepted = JSON_TYPES | YAML_TYPES if path == PLAN_PATH or path.startswith(PLAN_PATH + "/") else JSON_TYPES
    if content_type is None:
        if not _has_body(headers):
            return None  # no body: `curl -X DELETE`, `fetch(url, {method: "DELETE"})`
        sent = "a body without a Content-Type"
    else:
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type in accepted:
            return None
        sent = f"Content-Type {media_type or content_type!r}"
    wanted = " or ".join(sorted(accepted))
    return error_response(
        "content_type.unsupported",
        f"{method} {path} takes a body of type {wanted}, not {sent} (curl: -H 'Content-Type: application/json', "
        "or --json): no HTML form or simple cross-site request may change mockpipe's state",
        415,
    )


def _has_body(headers: dict[bytes, str]) -> bool:
    return headers.get(b"content-length", "0").strip() not in ("", "0") or b"transfer-encoding" in headers


def _forbidden_host(host: str, policy: HostPolicy) -> JSONResponse:
    name = host_name(host)
    allowed = ["localhost", "loopback addresses"]
    if policy.bound_host not in ("0.0.0.0", "::", "") and not is_loopback(policy.bound_host):
        allowed.append(policy.bound_host)
    allowed.extend(sorted(policy.allowed))
    # The way out first: clients (`mockpipe calls`) may show only the start of the message.
    fix = f"start mockpipe with --allow-host {name}" if name else ALLOW_HOST_HINT
    return error_response(
        "host.forbidden",
        f"Host {host!r} is refused: {fix} to reach the inspection API and UI by this name. By default they "
        f"answer {', '.join(allowed)} only, so that a web page whose name was made to resolve here (DNS "
        "rebinding) reads nothing",
        403,
    )


def _forbidden_origin(who: str, path: str) -> JSONResponse:
    return error_response(
        "origin.forbidden",
        f"{who} may not use {path}: the inspection API and UI answer pages on this machine (localhost, "
        f"loopback addresses) and on hosts allowed with --allow-host NAME only",
        403,
    )
