"""An endpoint that refuses the first POSTs (503, 429, ...) and then lets them through to a real mockpipe."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from mockpipe import MockPipeServer

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send


class Flaky:
    """ASGI wrapper around the app of a MockPipeServer: answers `status` to the next `failures` POSTs.

    `arrivals` keeps the monotonic time of every POST; `refused` is set once `notify_after` were refused.
    """

    def __init__(self, app: ASGIApp, *, failures: int, status: int = 503, retry_after: str | None = None,
                 notify_after: int = 1) -> None:
        self.app = app
        self.failures = failures
        self.status = status
        self.retry_after = retry_after
        self.notify_after = notify_after
        self.refusals = 0
        self.arrivals: list[float] = []
        self.refused = threading.Event()
        self.state = getattr(app, "state", None)  # the server reaches the app's state (its UI streams)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        self.arrivals.append(time.monotonic())
        if self.failures <= 0:
            await self.app(scope, receive, send)
            return
        self.failures -= 1
        while (await receive()).get("more_body"):  # read the body, as a real server would
            pass
        headers = [(b"content-type", b"application/json")]
        if self.retry_after is not None:
            headers.append((b"retry-after", self.retry_after.encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"code":"unavailable","message":"try again later"}'})
        self.refusals += 1
        if self.refusals >= self.notify_after:
            self.refused.set()


def flaky_server(**options: object) -> tuple[MockPipeServer, Flaky]:
    """A MockPipeServer (not started) whose app is wrapped in a `Flaky`."""
    server = MockPipeServer()
    flaky = Flaky(server.app, **options)  # type: ignore[arg-type]
    server.app = flaky  # type: ignore[assignment]
    return server, flaky
