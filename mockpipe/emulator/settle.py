"""`GET /mockpipe/settle?writeKey=K[&quiet=0.2&timeout=10]`: "everything I sent has been processed".

Answers 200 once no tracking request of write key `K` has been in flight (being received or processed)
for `quiet` seconds, counted from the later of this request's arrival and the last answer to one of
`K`'s requests; with the key's totals (calls, accepted calls, requests, rejected requests). Answers 409
`settle.timeout` (with the same counts and how many are still in flight) when `timeout` passes first:
409 like `/mockpipe/expect`'s failure, and not 408, which HTTP clients may resend on their own.

A request without an Authorization header (a browser SDK puts the key in the body) counts for every
key while it is in flight: its key is not known before its body is read. The wait suspends (a short
sleep on the event loop at a time), holding no thread, and `timeout` is bounded.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.responses import bad_query, check_known_params, error_response, float_param
from mockpipe.journal.queries import CallQuery, RequestQuery

if TYPE_CHECKING:
    from starlette.requests import Request

    from mockpipe.emulator.in_flight import InFlight
    from mockpipe.journal.journal import Journal
    from mockpipe.types import JSONObject

DEFAULT_QUIET = 0.2
MAX_QUIET = 60.0
DEFAULT_SETTLE_TIMEOUT = 10.0
MAX_SETTLE_TIMEOUT = 300.0
TICK = 0.01  # seconds between looks while a request is in flight
LONGEST_PAUSE = 0.1  # a quiet wait still looks this often whether the server is stopping


class SettleAPI:
    """`GET /mockpipe/settle` over the tracking endpoint's in-flight counts and the journal."""

    def __init__(self, in_flight: InFlight, journal: Journal) -> None:
        self.in_flight = in_flight
        self.journal = journal

    def routes(self) -> list[Route]:
        return [Route("/mockpipe/settle", self.settle, methods=["GET"])]

    async def settle(self, request: Request) -> JSONResponse:
        params = request.query_params
        try:
            check_known_params(params, ("writeKey", "quiet", "timeout"))
            write_key = params.get("writeKey")
            if not write_key:
                raise ValueError("query parameter writeKey is required: the key whose requests to wait for")
            quiet = float_param(params, "quiet", DEFAULT_QUIET, low=0, high=MAX_QUIET, unit="seconds")
            timeout = float_param(
                params, "timeout", DEFAULT_SETTLE_TIMEOUT, low=0, high=MAX_SETTLE_TIMEOUT, unit="seconds"
            )
        except ValueError as exc:
            return bad_query(str(exc))
        started = time.monotonic()
        deadline = started + timeout
        releases = self.journal.releases
        while True:
            busy, ended = self.in_flight.of(write_key)
            now = time.monotonic()
            quiet_since = started if ended is None else max(started, ended)
            if not busy and now - quiet_since >= quiet:
                return JSONResponse(self._seen(write_key, busy, now - started) | {"settled": True})
            stopping = self.journal.releases != releases  # the server is stopping: answer now
            if now >= deadline or stopping:
                why = f"{busy} request(s) still in flight" if busy else f"a request ended less than {quiet:g} s ago"
                message = f"write key {write_key!r} did not settle within {timeout:g} s: {why}"
                if stopping:
                    message = f"write key {write_key!r} had not settled when the server stopped: {why}"
                return error_response("settle.timeout", message, 409, **self._seen(write_key, busy, now - started))
            pause = TICK if busy else quiet - (now - quiet_since)
            await asyncio.sleep(max(0.0, min(pause, deadline - now, LONGEST_PAUSE)))

    def _seen(self, write_key: str, busy: int, waited: float) -> JSONObject:
        journal = self.journal
        return {
            "writeKey": write_key,
            "inFlight": busy,
            "waited": round(waited, 3),
            "calls": journal.count(CallQuery(write_key=write_key)),
            "acceptedCalls": journal.count(CallQuery(write_key=write_key, accepted=True)),
            "requests": journal.count_requests(RequestQuery(write_key=write_key)),
            "rejectedRequests": journal.count_requests(RequestQuery(write_key=write_key, accepted=False)),
        }
