"""Endpoints in front of a real mockpipe: one that refuses the first POSTs (503, 429, ...) and then lets
them through, and one that answers its 400s in the real service's terse shape."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe import MockPipeServer

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Flaky:
    """ASGI wrapper around the app of a MockPipeServer: answers `status` to the next `failures` POSTs.

    `arrivals` keeps the monotonic time of every POST; `refused` is set once `notify_after` were refused.
    """

    def __init__(
        self, app: ASGIApp, *, failures: int, status: int = 503, retry_after: str | None = None, notify_after: int = 1
    ) -> None:
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


class Terse:
    """ASGI wrapper that turns mockpipe's 400 answers into the real service's documented shape,
    `{"meta": {"errors": [...]}}`: no violation paths tell which calls of a batch were at fault."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state = getattr(app, "state", None)
        self.bodies: list[bytes] = []  # every POST body, in order

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.bodies.append(body)
        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 0

        async def rewrite(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 400:
                    message = {**message, "headers": [(b"content-type", b"application/json")]}
            elif message["type"] == "http.response.body" and status == 400:
                errors = orjson.loads(message["body"])["meta"]["errors"]
                message = {**message, "body": orjson.dumps({"meta": {"errors": errors}})}
            await send(message)

        await self.app(scope, replay_body, rewrite)


def terse_server(**options: Any) -> tuple[MockPipeServer, Terse]:
    """A MockPipeServer (not started, options as MockPipeServer's) whose app is wrapped in a `Terse`."""
    server = MockPipeServer(**options)
    terse = Terse(server.app)
    server.app = terse  # type: ignore[assignment]
    return server, terse
