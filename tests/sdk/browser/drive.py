"""Run the browser tracking bundles in headless Debian Chromium.

    serve_pages() -> base URL of a static server for page.html + bundles
    run_browser(page_url) -> {"done", "error", "sent", "requests", "console"}

The page server listens on 127.0.0.1 while tests give the API as
http://localhost:PORT, so page and API are different origins and the
bundles' CORS behaviour (preflights, Access-Control-Allow-Origin) is
exercised as on a real site.

CLI, for trying a server by hand:
    python drive.py cio|segment <cdnURL> <writeKey>
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE.parent / "node" / "node_modules"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Keep the bundles on this machine: a settings mistake (e.g. a wrong
    # integration name) makes them fall back to the real cdp.customer.io /
    # api.segment.io, which must fail fast rather than leave the host.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

# URL path on the page server -> the package's UMD bundle. Both expose the
# global `AnalyticsNext`. Lazy chunks would be fetched from the cdnURL (the
# server under test), not from here; none is needed with minimal settings.
BUNDLES = {
    "/vendor/cio.js": NODE_MODULES / "@customerio/cdp-analytics-browser/dist/umd/index.js",
    "/vendor/segment.js": NODE_MODULES / "@segment/analytics-next/dist/umd/index.js",
}


def missing() -> str | None:
    """Why the browser tests cannot run here (None when they can).

    Meant for pytest.skip(); .ci/install-sdks.sh installs all of these.
    """
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not installed (run .ci/install-sdks.sh)"
    for path in BUNDLES.values():
        if not path.exists():
            return f"{path} missing (run .ci/install-sdks.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "python package playwright not installed (run .ci/install-sdks.sh)"
    return None


class _Handler(SimpleHTTPRequestHandler):
    """Serves tests/sdk/browser/ plus the two bundles from node_modules."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(HERE), **kwargs)

    def translate_path(self, path: str) -> str:
        bundle = BUNDLES.get(urllib.parse.urlsplit(path).path)
        return str(bundle) if bundle else super().translate_path(path)

    def end_headers(self) -> None:
        # Always serve the current bundle, never a cached one.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


def _start() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="sdk-page-server", daemon=True).start()
    return server


def serve_pages() -> str:
    """Start the page server in a daemon thread; return its base URL.

    It lives as long as the process (fine for a session-scoped fixture);
    use page_server() when it must be stopped.
    """
    return f"http://127.0.0.1:{_start().server_port}"


@contextlib.contextmanager
def page_server() -> Iterator[str]:
    """Context-managed serve_pages(): yields the base URL, then stops."""
    server = _start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def page_url(base_url: str, lib: str, cdn_url: str, write_key: str) -> str:
    """URL of page.html for lib "cio" or "segment"."""
    query = urllib.parse.urlencode({"lib": lib, "cdn": cdn_url, "key": write_key})
    return f"{base_url}/page.html?{query}"


def run_browser(page_url: str, timeout: float = 20.0) -> dict[str, Any]:
    """Open page_url in headless Chromium until the page reports.

    Returns {"done": bool, "error": str | None, "sent": [call types],
    "requests": [{method, url, status | error}] (every fetch the bundle
    made), "console": [messages]}. "console" also holds page errors and
    failed requests (a CORS rejection shows up there as net::ERR_FAILED).
    Uses Playwright's sync API, so call it outside a running asyncio loop.
    """
    from playwright.sync_api import Error as PlaywrightError, sync_playwright

    console: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # No page.route()/context.route() here: with any route set,
            # Playwright answers CORS preflights itself, hiding the server's.
            page = browser.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.on(
                "requestfailed",
                lambda r: console.append(f"requestfailed: {r.method} {r.url} {r.failure}"),
            )
            page.goto(page_url, timeout=timeout * 1000)
            try:
                page.wait_for_function("window.__done === true || !!window.__error", timeout=timeout * 1000)
            except PlaywrightError as exc:  # timeout: report it, don't raise
                console.append(f"driver: {exc}")
            state: dict[str, Any] = page.evaluate(
                "({done: window.__done === true, error: window.__error || null,"
                " sent: window.__sent || [], requests: window.__requests || []})"
            )
        finally:
            browser.close()
    if not state["done"] and not state["error"]:
        state["error"] = f"timed out after {timeout}s waiting for window.__done"
    state["console"] = console
    return state


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("cio", "segment"):
        print("usage: python drive.py cio|segment <cdnURL> <writeKey>", file=sys.stderr)
        return 2
    reason = missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    with page_server() as base:
        result = run_browser(page_url(base, *argv))
    print(json.dumps(result, indent=2))
    return 0 if result["done"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
