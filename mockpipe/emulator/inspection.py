"""The inspection API under `/mockpipe/`, a prefix the real API never uses."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.responses import bad_query, check_known_params, float_param, int_param, not_found, path_id, shown
from mockpipe.journal.journal import DEFAULT_WAIT_TIMEOUT, CallQuery, RequestQuery
from mockpipe.journal.queries import MAX_PAGE
from mockpipe.plans.codes import PLAN_RULES
from mockpipe.spec.rules import REJECTIONS, RULES
from mockpipe.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from mockpipe.emulator.config import ServerConfig
    from mockpipe.journal.journal import Call, Journal, WaitResult

MAX_WAIT_TIMEOUT = 300.0
DEFAULT_PAGE = MAX_PAGE  # calls or requests in a page when no `limit` is given


class PageResponse(JSONResponse):
    """A JSON answer written by orjson: a page of a thousand calls in a tenth of the time."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # a value orjson does not write (an integer past 64 bits, say)
            return super().render(content)


def page_size(limit: int | None) -> int:
    """The calls or requests in one page of an answer: `limit`, at most `MAX_PAGE` (a larger one is
    capped, not refused: the answer's `next` leads on)."""
    return DEFAULT_PAGE if limit is None else min(limit, MAX_PAGE)


class Inspection:
    """Handlers of the inspection API over one journal."""

    def __init__(self, config: ServerConfig, journal: Journal) -> None:
        self.config = config
        self.journal = journal
        # Tells clients that follow the journal (`mockpipe calls --follow`) that the server was restarted.
        self.instance = uuid.uuid4().hex
        # Per event loop: a server that is stopped and started again serves on a new one.
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def routes(self) -> list[Route]:
        return [
            Route("/mockpipe/health", self.health, methods=["GET"]),
            Route("/mockpipe/calls", self.calls, methods=["GET"]),
            Route("/mockpipe/calls", self.clear, methods=["DELETE"]),
            Route("/mockpipe/calls/wait", self.wait, methods=["GET"]),
            Route("/mockpipe/calls/{call_id}", self.call, methods=["GET"]),
            Route("/mockpipe/requests", self.requests, methods=["GET"]),
            Route("/mockpipe/requests/{request_id}", self.request, methods=["GET"]),
            Route("/mockpipe/sources/{write_key}", self.source, methods=["GET"]),
            Route("/mockpipe/rules", self.rules, methods=["GET"]),
        ]

    async def _in_worker(self, write: Callable[..., JSONResponse], *args: Any) -> JSONResponse:
        """A page written out in a worker thread, one at a time: ten pages of a thousand calls written
        at once would leave the event loop a tenth of the interpreter, and every request waiting."""
        loop = asyncio.get_running_loop()
        gate = self._writers.get(loop)
        if gate is None:
            gate = self._writers[loop] = asyncio.Semaphore(1)
        async with gate:
            return await run_in_threadpool(write, *args)

    def _call_dict(self, call: Call) -> dict[str, Any]:
        # Side values (the forward status, ...) join the call's own fields.
        return call.to_dict(attempts=self.journal.attempts(call.id)) | self.journal.annotations(call.id)

    async def health(self, request: Request) -> JSONResponse:
        config = self.config
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "instance": self.instance,
                "region": config.region,
                "strict": config.strict,
                "calls": len(self.journal),
                "droppedCalls": self.journal.dropped_calls,
                "damagedRows": self.journal.damaged_rows,
            }
        )

    async def calls(self, request: Request) -> JSONResponse:
        try:
            check_known_params(request.query_params, CallQuery.PARAMS)
            query = CallQuery.from_params(request.query_params)
        except ValueError as exc:
            return bad_query(exc)
        return await self._in_worker(self._calls_page, query)

    def _calls_page(self, query: CallQuery) -> JSONResponse:
        """A page of calls (in a worker thread: a thousand calls take a while to write out, and the
        event loop goes on taking calls meanwhile)."""
        limit = page_size(query.limit)
        found = self.journal.calls(replace(query, limit=limit + 1))
        page = found[:limit]
        return PageResponse(
            {
                "calls": [self._call_dict(call) for call in page],
                "count": len(page),
                "total": self.journal.count(query),
                # Pass it as `after` to get the next page; null on the last one.
                "next": page[-1].id if len(found) > limit and page else None,
            }
        )

    async def wait(self, request: Request) -> JSONResponse:
        params = request.query_params
        try:
            count = int_param(params, "count", 1)
            timeout = float_param(params, "timeout", DEFAULT_WAIT_TIMEOUT, low=0, high=MAX_WAIT_TIMEOUT, unit="seconds")
            check_known_params(params, {*CallQuery.PARAMS, "count", "timeout", "instance"})
            query = CallQuery.from_params(params)
        except ValueError as exc:
            return bad_query(exc)
        if params.get("instance", self.instance) != self.instance:
            # The caller's cursor is another run's (the server restarted between its look and this
            # wait): waiting on it could last the whole timeout, so answer at once, naming this run.
            timeout = 0.0
        limit = page_size(query.limit)
        # A page at most, once `count` calls match: a wait for a billion calls keeps a page, not the journal.
        result = await self.journal.wait_for_async(count, timeout, replace(query, limit=limit))
        return await self._in_worker(self._wait_page, query, limit, result)

    def _wait_page(self, query: CallQuery, limit: int, result: WaitResult) -> JSONResponse:
        page = result.calls
        return PageResponse(
            {
                "calls": [self._call_dict(call) for call in page],
                "count": len(page),
                "total": self.journal.count(query),
                # A page short of `limit` holds every match the wait saw; a full one may have more after it.
                "next": page[-1].id if page and len(page) == limit and self._more_after(query, page[-1].id) else None,
                "timedOut": result.timed_out,
                "instance": self.instance,  # the run that answered (GET /mockpipe/health has it too)
            }
        )

    def _more_after(self, query: CallQuery, call_id: int) -> bool:
        return bool(self.journal.calls(replace(query, after=call_id, limit=1)))

    async def call(self, request: Request) -> JSONResponse:
        text = request.path_params["call_id"]
        call_id = path_id(text)
        found = None if call_id is None else self.journal.call(call_id)
        if found is None:
            return not_found(f"no call {shown(text)}")
        return JSONResponse(self._call_dict(found))

    async def clear(self, request: Request) -> JSONResponse:
        removed = self.journal.clear(request.query_params.get("writeKey"))
        return JSONResponse({"deleted": removed})

    async def requests(self, request: Request) -> JSONResponse:
        try:
            check_known_params(request.query_params, RequestQuery.PARAMS)
            query = RequestQuery.from_params(request.query_params)
        except ValueError as exc:
            return bad_query(exc)
        return await self._in_worker(self._requests_page, query)

    def _requests_page(self, query: RequestQuery) -> JSONResponse:
        limit = page_size(query.limit)
        found = self.journal.requests(replace(query, limit=limit + 1))
        page = found[:limit]
        return PageResponse(
            {
                "requests": [r.to_dict() for r in page],
                "count": len(page),
                "total": self.journal.count_requests(query),
                "next": page[-1].id if len(found) > limit and page else None,
            }
        )

    async def request(self, request: Request) -> JSONResponse:
        text = request.path_params["request_id"]
        request_id = path_id(text)
        found = None if request_id is None else self.journal.request(request_id)
        if found is None:
            return not_found(f"no request {shown(text)}")
        return JSONResponse(found.to_dict())

    async def source(self, request: Request) -> JSONResponse:
        return JSONResponse(self.journal.source(request.path_params["write_key"]).to_dict())

    async def rules(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "rules": [
                    {"code": r.code, "severity": r.severity, "appliesTo": list(r.applies_to), "summary": r.summary}
                    for r in (*RULES.values(), *PLAN_RULES.values())
                ],
                "rejections": [{"code": r.code, "status": r.status, "summary": r.summary} for r in REJECTIONS.values()],
            }
        )
