"""Delivering an injected fault over ASGI: the answer a fault rule decided, late, or no answer at all.

A `close` fault must drop the TCP connection with no status line, which ASGI cannot express: this
module walks Hypercorn's own objects to the socket (`_abort_transport`). Only the tracking endpoints
use it; the rules themselves are in `mockpipe.emulator.faults`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import Message, Receive, Scope, Send

    from mockpipe.emulator.faults import FaultHit

log = logging.getLogger("mockpipe.emulator.fault_delivery")

# The ASGI `send` of the server itself, kept in the scope's extensions by `mockpipe.emulator.app.EmulatorApp`.
RAW_SEND = "mockpipe.raw_send"
DISCONNECT_WAIT = 1.0  # seconds to wait for the server to notice a connection it was told to abort


class InjectedFault(MockpipeError):
    """Raised by `Ingest.handle` when a fault answers the request (already journaled); never escapes
    the tracking endpoints, whose ASGI layer delivers it with `deliver`."""

    def __init__(self, hit: FaultHit, status: int, body: bytes, content_type: bytes) -> None:
        super().__init__(hit.label)
        self.hit = hit
        self.status = status
        self.body = body
        self.content_type = content_type

    async def deliver(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer as the fault says: late, with its status and headers, or by closing the connection."""
        hit = self.hit
        if hit.delay > 0:
            await hit.pause()
        if hit.close:
            await close_connection(scope, receive, send)
            return
        headers = [(b"content-type", self.content_type), (b"content-length", str(len(self.body)).encode())]
        if hit.retry_after is not None:
            headers.append((b"retry-after", hit.retry_after.encode("latin-1")))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _abort_transport(scope: Scope) -> bool:
    """Abort the TCP connection of this request at once (no status line, no body); False if not found.

    ASGI has no way to drop a connection: an app that returns without answering gets a 500 from
    Hypercorn. So walk Hypercorn's own objects (checked against hypercorn 0.17 and 0.18, HTTP/1.1):
    the server's `send` is `HTTPStream.app_send`; the stream's `send` is `H11Protocol.stream_send`;
    the protocol's `send` is `TCPServer.protocol_send`, whose server holds the asyncio StreamWriter.
    Anything else (another server, HTTP/2 where the connection carries other streams) returns False.
    """
    raw_send: Any = (scope.get("extensions") or {}).get(RAW_SEND)
    try:
        stream = raw_send.__self__
        protocol = stream.send.__self__
        if all(cls.__name__ != "H11Protocol" for cls in type(protocol).__mro__):  # or mockpipe's subclass
            return False
        transport = protocol.send.__self__.writer.transport
    except AttributeError:
        return False
    if not isinstance(transport, asyncio.Transport) or transport.is_closing():
        return False
    transport.abort()
    return True


async def close_connection(scope: Scope, receive: Receive, send: Send) -> None:
    """Drop the connection without an answer; where that is impossible, answer headers that promise a
    body which never comes, and end the connection there (the client sees a truncated response)."""
    if not _abort_transport(scope):
        log.debug("cannot reach the connection of %s; answering a truncated response", scope.get("path"))
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"1024"),
                    (b"connection", b"close"),
                ],
            }
        )
        return  # without the promised body: the server ends the connection mid-response
    # Hypercorn answers 500 for an app that returns before its request was seen to end: wait for it.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DISCONNECT_WAIT):
            while (await receive())["type"] != "http.disconnect":
                pass


def adding_headers(extra: Sequence[tuple[bytes, bytes]], send: Send) -> Send:
    """`send`, adding `extra` to the headers of the response it starts."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return send_with_headers
