"""Reading a tracking request's body: within the size limit (nothing past it is kept) and within a
deadline (a client that trickles its body does not hold a connection, and its memory, for ever).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import Message, Receive

DISCARD_LIMIT = 64 * 1024 * 1024  # past this, an oversized body is not even drained: the connection drops


async def read_body(receive: Receive, limit: int, deadlines: BodyDeadlines) -> tuple[bytes, bool, str | None]:
    """(body, over the limit, why it is incomplete: None when whole). Keeps nothing past the limit: an
    oversized body is never held. The whole body must arrive within the deadlines' timeout: a client
    that trickles it (a byte a second) does not hold a connection, and its memory, for ever."""
    chunks: list[bytes] = []
    size = 0
    # The deadline of this read, as one dict entry: the sweeper (started on a loop's first read) cancels it.
    task = asyncio.current_task()
    if task is not None:
        loop = task.get_loop()
        deadlines.reading[task] = loop.time() + deadlines.timeout
        if deadlines.sweeper is None or deadlines.sweeper.done() or deadlines.sweeper.get_loop() is not loop:
            deadlines.start_sweeper(loop)
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", False, "the client closed the connection before the end of the body"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                # Read the rest and drop it, so that the client gets to read the answer instead of a reset.
                whole = await discard_body(receive, message, DISCARD_LIMIT - size)
                return b"", True, None if whole else "the client closed the connection before the end of the body"
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
    except asyncio.CancelledError:
        if not deadlines.timed_out(task):
            raise  # cancelled for another reason: the server is stopping
        return b"", False, f"timed out: the body did not arrive within {deadlines.timeout:g} s (--body-timeout)"
    finally:
        deadlines.reading.pop(task, None)  # type: ignore[arg-type]
    return chunks[0] if len(chunks) == 1 else b"".join(chunks), False, None


class BodyDeadlines:
    """The deadlines of the request bodies being read, enforced by one sweeper task per event loop.

    A timer per request (`asyncio.timeout`) would cost half the hot path; here a request costs a dict
    entry (`reading`, task -> deadline, written by the tracking endpoint as it reads), and the sweeper,
    waking a few times per timeout, cancels a read that has run out of time
    (a deadline is met within a quarter of the timeout)."""

    IDLE_ROUNDS = 40  # sweeps with nothing to watch before the sweeper ends (a new read starts it again)

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.reading: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self.sweeper: asyncio.Task[None] | None = None

    def start_sweeper(self, loop: asyncio.AbstractEventLoop) -> None:
        self.sweeper = loop.create_task(self._sweep(loop))

    def timed_out(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether the task was cancelled for running out of time; the cancellation is taken back."""
        if task is None or task not in self._expired:
            return False
        self._expired.discard(task)
        task.uncancel()
        return True

    async def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        idle = 0
        while idle < self.IDLE_ROUNDS:
            await asyncio.sleep(self.timeout / 4)
            idle = 0 if self.reading else idle + 1
            now = loop.time()
            for task, deadline in list(self.reading.items()):
                if deadline <= now and task.get_loop() is loop:
                    del self.reading[task]
                    self._expired.add(task)
                    task.cancel()


async def discard_body(receive: Receive, message: Message, budget: int) -> bool:
    """Drain the request body without keeping it; False when the client went away."""
    while message.get("more_body", False) and budget > 0:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        budget -= len(message.get("body", b""))
    return True
