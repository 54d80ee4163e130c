"""The path of one valid `POST /v1/track` from the app's `__call__` to the end of `Journal.record`
crosses few mockpipe modules: each one crossed is a hand-off a reader follows and a call the hot
path pays for."""

from __future__ import annotations

import asyncio
import sys
from types import FrameType
from typing import Any

import orjson

from mockpipe.emulator.app import create_app
from mockpipe.emulator.config import ServerConfig
from mockpipe.journal.journal import Journal

# What the path may cross: the tracking endpoint (with the app's fast lane into it and the CORS
# headers of its answers), the validator (cutting the request, the fast proof), the time codec, the
# journal and its packed tables. The journal's listeners (live view, store) are not counted: they run
# after the record. Issue 12 measured 10 modules (28 hand-offs) on one request and asked for five.
ALLOWED = {
    "mockpipe.emulator.ingest",
    "mockpipe.spec.validator",
    "mockpipe.spec.times",
    "mockpipe.journal.journal",
    "mockpipe.journal.packed",
}
MOST_MODULES = 5


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


async def _trace_one(app: Any, number: int) -> tuple[list[str], int, int]:
    """(modules entered in order of first entry, hand-offs between modules, status) of one request."""
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

    modules: list[str] = []
    hand_offs = 0
    last: str | None = None
    done = False
    notify = Journal._notify.__code__  # the listeners' turn: Journal.record's own work is over

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal hand_offs, last, done
        if done or event != "call":
            return
        if frame.f_code is notify:
            done = True
            return
        name = frame.f_globals.get("__name__", "")
        if name.startswith("mockpipe"):
            if name != last:
                hand_offs += last is not None
                last = name
            if name not in modules:
                modules.append(name)

    async def one() -> None:
        sys.setprofile(profile)
        try:
            await app(_scope(), receive, send)
        finally:
            sys.setprofile(None)

    await one()
    assert done, "Journal.record was not reached"
    return modules, hand_offs, sent[0]["status"]


def test_a_valid_track_call_crosses_few_modules() -> None:
    journal = Journal()
    app = create_app(ServerConfig(), journal)

    async def two() -> tuple[list[str], int, int]:
        # One event loop, as in a server: the first request fills the caches (credentials, shapes) and
        # starts the body-deadline sweeper, as any client's first request does.
        await _trace_one(app, 0)
        return await _trace_one(app, 1)

    modules, hand_offs, status = asyncio.run(two())
    assert status == 200 and len(journal.records()) == 2 and journal.records()[1].valid
    assert set(modules) <= ALLOWED, f"the hot path now crosses {sorted(set(modules) - ALLOWED)}"
    assert len(modules) <= MOST_MODULES, f"{len(modules)} modules, {hand_offs} hand-offs: {modules}"
