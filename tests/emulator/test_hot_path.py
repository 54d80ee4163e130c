"""The paths of one valid `POST /v1/track` cross few mockpipe modules: each one crossed is a hand-off a
reader follows and a call the hot path pays for. Two paths: its answer (from the app's `__call__` to the
answer sent: the request is left to the journal's backlog), and its processing (from the backlog's
`catch_up` to the end of `Journal.record`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from types import CodeType, FrameType
from typing import Any

import orjson

from mockpipe.emulator.app import create_app
from mockpipe.emulator.config import ServerConfig
from mockpipe.journal.journal import Journal
from mockpipe.journal.listeners import JournalListeners

# What the path may cross: the tracking endpoint (with the app's fast lane into it and the CORS
# headers of its answers), the validator (cutting the request, the fast proof), the time codec, the
# journal and its packed tables. The journal's listeners (live view, store) are not counted: they run
# after the record. Issue 12 measured 10 modules (28 hand-offs) on one request and asked for five.
# The backlog hands the request to the tracking endpoint's processing.
PROCESSING = {
    "mockpipe.journal.backlog",
    "mockpipe.emulator.ingest",
    "mockpipe.spec.validator",
    "mockpipe.spec.times",
    "mockpipe.journal.journal",
    "mockpipe.journal.packed",
}
MOST_PROCESSING = 6
# The answer: the app's fast lane, the endpoint, reading the body, the journal (any wait to wake? any
# durable listener?), the drainer (the request left to the backlog).
ANSWER = {
    "mockpipe.emulator.app",
    "mockpipe.emulator.ingest",
    "mockpipe.emulator.body",
    "mockpipe.journal.journal",
    "mockpipe.emulator.draining",
}


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/track",
        "raw_path": b"/v1/track",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", b"Basic d2tfaG90Og=="), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def _trace_one(app: Any, journal: Journal, number: int) -> tuple[_Trace, _Trace, int]:
    """(the trace of its answer, the trace of its processing, status) of one request."""
    # As every SDK sends it: with its messageId and timestamp (a call without them is enriched first).
    body = orjson.dumps(
        {
            "userId": "u1",
            "event": "Hot Path",
            "messageId": f"m-{number}",
            "timestamp": "2026-12-04T10:00:00.000Z",
            "properties": {"n": 1},
        }
    )
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    answer = _Trace(None)
    await answer.run(app(_scope(), receive, send))
    processing = _Trace(JournalListeners._notify.__code__)  # the listeners' turn: Journal.record's own work is over
    await processing.run(_catching_up(journal))
    assert processing.done, "Journal.record was not reached"
    return answer, processing, sent[0]["status"]


async def _catching_up(journal: Journal) -> None:
    journal.backlog.catch_up()


class _Trace:
    """The mockpipe modules entered (in order of first entry) and the hand-offs between them, until `end`."""

    def __init__(self, end: CodeType | None) -> None:
        self.modules: list[str] = []
        self.hand_offs = 0
        self.end = end
        self.done = False
        self._last: str | None = None

    def profile(self, frame: FrameType, event: str, arg: object) -> None:
        if self.done or event != "call":
            return
        if frame.f_code is self.end:
            self.done = True
            return
        name = frame.f_globals.get("__name__", "")
        if name.startswith("mockpipe"):
            if name != self._last:
                self.hand_offs += self._last is not None
                self._last = name
            if name not in self.modules:
                self.modules.append(name)

    async def run(self, step: Coroutine[Any, Any, None]) -> None:
        sys.setprofile(self.profile)
        try:
            await step
        finally:
            sys.setprofile(None)


def test_a_valid_track_call_crosses_few_modules() -> None:
    journal = Journal()
    app = create_app(ServerConfig(), journal)

    async def two() -> tuple[_Trace, _Trace, int]:
        # One event loop, as in a server: the first request fills the caches (credentials, shapes) and
        # starts the body-deadline sweeper, as any client's first request does.
        await _trace_one(app, journal, 0)
        return await _trace_one(app, journal, 1)

    answer, processing, status = asyncio.run(two())
    assert status == 200 and len(journal.records()) == 2 and journal.records()[1].valid
    assert set(answer.modules) <= ANSWER, f"the answer now crosses {sorted(set(answer.modules) - ANSWER)}"
    assert set(processing.modules) <= PROCESSING, f"processing crosses {sorted(set(processing.modules) - PROCESSING)}"
    assert len(processing.modules) <= MOST_PROCESSING, f"{processing.hand_offs} hand-offs: {processing.modules}"
