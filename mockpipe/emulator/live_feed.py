"""The live feed of the web UI: journal events fanned out to each connected browser, one bounded queue each.

A stream starts with a `hello` event (the latest calls, the rejected requests and the counts per
write key and type), then sends `call`, `request` (a rejected one) and `clear` events as the journal
records them. A client that falls too far behind is cut off: its browser reconnects and gets a
fresh `hello`, so a slow tab never holds memory on the server. Nothing is serialised while no
client listens. The events go out as Server-Sent Events from `mockpipe.emulator.webui`; no web code here.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from mockpipe.journal.journal import CallQuery, RequestQuery

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from mockpipe.journal.journal import Call, Journal, RequestRecord
    from mockpipe.types import JSONObject


class LiveEvent(NamedTuple):
    """One event of a stream: its kind, the id of its call or request, and its data as JSON."""

    kind: str  # "hello", "call", "request" or "clear"; "" ends the stream
    id: int  # call or request id, to skip what the `hello` already had (0 for the others)
    data: bytes


_END = LiveEvent("", 0, b"")


NAME_LIMIT = 200  # characters of a shown name: a list row, not the payload


def display_name(call_type: str, payload: JSONObject) -> str | None:
    """A name for a row of an identify (the person's name, email, or first and last names) or a group
    (its name, else its groupId); None for other calls, whose event or page name is shown instead."""
    if call_type not in ("identify", "group"):
        return None
    traits = payload.get("traits")
    if call_type == "identify" and not isinstance(traits, dict):
        context = payload.get("context")
        traits = context.get("traits") if isinstance(context, dict) else None
    traits = traits if isinstance(traits, dict) else {}
    found: Any = traits.get("name") or traits.get("email")
    if not isinstance(found, str) and call_type == "identify":
        parts = [traits.get(key) for key in ("firstName", "lastName")]
        found = " ".join(part for part in parts if isinstance(part, str) and part) or None
    if not isinstance(found, str) and call_type == "group":
        group_id = payload.get("groupId")
        found = str(group_id) if isinstance(group_id, str | int) and not isinstance(group_id, bool) else None
    if not isinstance(found, str) or not found:
        return None
    return found if len(found) <= NAME_LIMIT else found[: NAME_LIMIT - 1] + "…"


def call_summary(call: Call) -> JSONObject:
    """What the list of calls shows; the detail comes from `/mockpipe/calls/{id}`."""
    return {
        "id": call.id,
        "requestId": call.request_id,
        "writeKey": call.write_key,
        "type": call.type,
        "receivedAt": call.received_at,
        "valid": call.valid,
        "accepted": call.accepted,
        "event": call.event,
        "name": call.name,
        "displayName": display_name(call.type, call.payload) if call.type in ("identify", "group") else None,
        "userId": call.user_id,
        "anonymousId": call.anonymous_id,
        "messageId": call.message_id,
        "duplicateOf": call.duplicate_of,
        "errors": sum(v.severity == "error" for v in call.violations),
        "warnings": sum(v.severity == "warning" for v in call.violations),
    }


def request_summary(request: RequestRecord) -> JSONObject:
    return {
        "id": request.id,
        "receivedAt": request.received_at,
        "method": request.method,
        "path": request.path,
        "writeKey": request.write_key,
        "status": request.status,
        "reason": request.reason,
        "message": request.message,
        "size": request.size,
        "userAgent": request.user_agent,
        "callIds": list(request.call_ids),
    }


class _Client:
    __slots__ = ("loop", "queue")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(size)

    def push(self, message: LiveEvent) -> None:
        """From any thread: the journal is usually written on the client's own loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._put(message)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the stream is gone
                self.loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: LiveEvent) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # too far behind: end the stream, the browser reconnects
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(_END)


class LiveFeed:
    """Journal events fanned out to the streams of connected browsers."""

    QUEUE_SIZE = 2000  # events a client may lag behind before it is cut off
    BACKLOG_CALLS = 500  # calls the `hello` event carries
    BACKLOG_REQUESTS = 200  # rejected requests the `hello` event carries

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._clients: set[_Client] = set()
        journal.subscribe(self._on_record)
        journal.on_clear(self._on_clear)

    @property
    def clients(self) -> int:
        return len(self._clients)

    def _broadcast(self, messages: list[LiveEvent]) -> None:
        for client in list(self._clients):
            for message in messages:
                client.push(message)

    def _on_record(self, request: RequestRecord, calls: list[Call]) -> None:
        if not self._clients:
            return
        messages = [LiveEvent("call", call.id, orjson.dumps(call_summary(call))) for call in calls]
        if not request.accepted:
            messages.append(LiveEvent("request", request.id, orjson.dumps(request_summary(request))))
        self._broadcast(messages)

    def _on_clear(self, write_key: str | None) -> None:
        if self._clients:
            self._broadcast([LiveEvent("clear", 0, orjson.dumps({"writeKey": write_key}))])

    def close(self) -> None:
        """End every open stream (their browsers will try to reconnect)."""
        self._broadcast([_END])

    def hello(self) -> tuple[JSONObject, int, int]:
        """The opening snapshot, and the last call and request ids it covers."""
        journal = self.journal
        calls = journal.latest_calls(self.BACKLOG_CALLS, CallQuery(duplicates=True))
        rejected = journal.requests(RequestQuery(accepted=False))[-self.BACKLOG_REQUESTS :]
        counts = {key: journal.source(key).by_type for key in journal.write_keys()}
        snapshot: dict[str, Any] = {
            "calls": [call_summary(call) for call in calls],
            "rejected": [request_summary(request) for request in rejected],
            "counts": counts,
            "total": len(journal),
        }
        # Only rejected requests are streamed: the last of them bounds what the snapshot covers.
        return snapshot, calls[-1].id if calls else 0, rejected[-1].id if rejected else 0

    async def stream(self) -> AsyncIterator[LiveEvent]:
        """The events of one client, `hello` first, until it disconnects, lags too far or `close()`."""
        client = _Client(asyncio.get_running_loop(), self.QUEUE_SIZE)
        self._clients.add(client)  # before the snapshot: nothing recorded in between is missed
        self.journal.backlog.follow(+1)  # calls are processed as they come while somebody watches
        try:
            snapshot, last_call, last_request = self.hello()
            yield LiveEvent("hello", 0, orjson.dumps(snapshot))
            while True:
                message = await client.queue.get()
                if message is _END:
                    return
                # Calls recorded from another thread may be both in the snapshot and queued.
                if (message.kind == "call" and message.id <= last_call) or (
                    message.kind == "request" and message.id <= last_request
                ):
                    continue
                yield message
        finally:
            self._clients.discard(client)
            self.journal.backlog.follow(-1)
