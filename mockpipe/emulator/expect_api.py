"""`POST /mockpipe/expect`: the fixture's assertions over HTTP, for test suites in any language.

The body is an expectation shaped like `assert_call`: `{"type": "track", "writeKey": "K", "fields":
{"event": "Order Completed", "properties": {"revenue": 99.5}}, "count": 1, "timeout": 5}` (`fields` in
the wire's camelCase; `count` exact when given, else at least one; `accepted`: true by default, false
for refused calls, null for either). The answer is 200 with the matching calls as soon as they land,
or 409 after `timeout` with the explanation the Python assertion gives (`message`, and its parts).
The matcher and the explanation are `mockpipe.testing`'s: one for Python and HTTP. The wait suspends
on the journal's event (no thread held), and `timeout` is bounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.responses import error_response
from mockpipe.journal.waits import DEFAULT_WAIT_TIMEOUT
from mockpipe.testing.assertions import wait_expectation_async
from mockpipe.testing.matching import Expectation, show

if TYPE_CHECKING:
    from starlette.requests import Request

    from mockpipe.journal.journal import Journal

MAX_EXPECT_TIMEOUT = 300.0
MAX_EXPECT_BODY = 1024 * 1024
FIELDS = ("type", "writeKey", "fields", "count", "timeout", "accepted", "since")


def _invalid(message: str) -> JSONResponse:
    return error_response("expect.invalid", message, 400)


def parse_expect(body: Any) -> tuple[str, Expectation, float, int | None]:
    """(write key, expectation, timeout, since) from a request body; ValueError names the bad field."""
    if not isinstance(body, dict):
        raise ValueError(f"the body must be a JSON object with {', '.join(FIELDS)}")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    write_key = body.get("writeKey")
    if not isinstance(write_key, str) or not write_key:
        raise ValueError(f"writeKey: must be the write key whose calls to look at, got {show(write_key)}")
    timeout = body.get("timeout", DEFAULT_WAIT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 <= timeout <= MAX_EXPECT_TIMEOUT:
        raise ValueError(f"timeout: must be a number of seconds from 0 to {MAX_EXPECT_TIMEOUT:g}, got {show(timeout)}")
    since = body.get("since")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
        raise ValueError(f"since: must be a call id (an integer >= 0), got {show(since)}")
    return write_key, Expectation.from_json(body), float(timeout), since


class ExpectAPI:
    """`POST /mockpipe/expect` over one journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def routes(self) -> list[Route]:
        return [Route("/mockpipe/expect", self.expect, methods=["POST"])]

    async def expect(self, request: Request) -> JSONResponse:
        raw = await request.body()
        if len(raw) > MAX_EXPECT_BODY:
            return _invalid(f"the body is over {MAX_EXPECT_BODY} bytes")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return _invalid(f"the body is not JSON: {exc}")
        try:
            write_key, expectation, timeout, since = parse_expect(body)
        except ValueError as exc:
            return _invalid(str(exc))
        # Other keys' calls are looked for since `since`, else since the server started: a suite run by
        # `mockpipe run` has the server to itself, and its wrong-key calls came before this request.
        outcome = await wait_expectation_async(
            self.journal, write_key, expectation, timeout=timeout, since=0 if since is None else since
        )
        if outcome.explanation is not None:
            parts = outcome.explanation.to_json()
            message = parts.pop("message")
            return error_response("expect.failed", message, 409, **parts)
        calls = [call.to_dict(attempts=self.journal.attempts(call.id)) for call in outcome.calls]
        return JSONResponse(
            {
                "ok": True,
                "expected": expectation.describe(),
                "writeKey": write_key,
                "matched": len(calls),
                "calls": calls,
            }
        )
