"""`/mockpipe/plan`: the tracking plan in force over HTTP (read, replace, drop) and its coverage.

`GET /mockpipe/plan[?writeKey=K]` answers the plan in force for K (its own, else the default) in
mockpipe's own format, with where it came from; `PUT` replaces it with a plan in any importable
format (JSON or YAML body; `?format=` forces one); `DELETE` takes it out of force.
`GET /mockpipe/plan/coverage[?writeKey=K]` answers what arrived against it; `DELETE` forgets that.
Like the rest of `/mockpipe/`, these pass the guard (host, origin, and JSON or YAML bodies only).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.responses import bad_query, check_known_params, error_response
from mockpipe.plans.model import PlanError

if TYPE_CHECKING:
    from starlette.requests import Request

    from mockpipe.plans.registry import PlanInForce, PlanRegistry

log = logging.getLogger("mockpipe.plans")

MAX_PLAN_BYTES = 16 * 1024 * 1024  # a plan body past this is refused unread


class PlansAPI:
    """The routes of `/mockpipe/plan` and `/mockpipe/plan/coverage` over one `PlanRegistry`."""

    def __init__(self, plans: PlanRegistry) -> None:
        self.plans = plans

    def routes(self) -> list[Route]:
        return [
            Route("/mockpipe/plan", self.get, methods=["GET"]),
            Route("/mockpipe/plan", self.put, methods=["PUT"]),
            Route("/mockpipe/plan", self.delete, methods=["DELETE"]),
            Route("/mockpipe/plan/coverage", self.coverage, methods=["GET"]),
            Route("/mockpipe/plan/coverage", self.clear_coverage, methods=["DELETE"]),
        ]

    async def get(self, request: Request) -> JSONResponse:
        try:
            write_key = _write_key(request, "writeKey")
        except ValueError as exc:
            return bad_query(str(exc))
        entry = self.plans.entry_for(write_key)
        if entry is None:
            return _no_plan(write_key)
        return JSONResponse(self._answer(entry, write_key))

    async def put(self, request: Request) -> JSONResponse:
        try:
            write_key = _write_key(request, "writeKey", "format")
        except ValueError as exc:
            return bad_query(str(exc))
        body = await request.body()
        if len(body) > MAX_PLAN_BYTES:
            return error_response("plan.invalid", f"a plan body is at most {MAX_PLAN_BYTES} bytes", 413)
        if not body.strip():
            return error_response("plan.invalid", "the body is empty: send a tracking plan (JSON or YAML)", 400)
        forced = request.query_params.get("format")
        try:
            # Off the event loop: compiling a large plan's schemas takes a while, and calls keep arriving.
            from mockpipe.plans.load import loads_plan  # the readers load when a plan arrives, not at start

            plan = await asyncio.to_thread(loads_plan, body, format=forced, file="the request body")
            entry = await asyncio.to_thread(self.plans.set, plan, write_key=write_key, origin="put", format=forced)
        except PlanError as exc:
            return error_response("plan.invalid", str(exc), 400, file=exc.file, place=exc.place, expected=exc.expected)
        scope = "the default plan" if write_key is None else f"the plan of write key {write_key}"
        log.warning("tracking plan replaced by PUT /mockpipe/plan as %s (%d rule(s))", scope, len(plan.rules))
        return JSONResponse(self._answer(entry, write_key))

    async def delete(self, request: Request) -> JSONResponse:
        try:
            write_key = _write_key(request, "writeKey")
        except ValueError as exc:
            return bad_query(str(exc))
        if not self.plans.drop(write_key):
            return _no_plan(write_key, own=True)
        return JSONResponse({"deleted": 1, "writeKey": write_key})

    async def coverage(self, request: Request) -> JSONResponse:
        try:
            write_key = _write_key(request, "writeKey")
        except ValueError as exc:
            return bad_query(str(exc))
        found = self.plans.coverage(write_key)
        if found is None:
            return _no_plan(write_key)
        return JSONResponse({"writeKey": write_key, **found.report()})

    async def clear_coverage(self, request: Request) -> JSONResponse:
        try:
            write_key = _write_key(request, "writeKey")
        except ValueError as exc:
            return bad_query(str(exc))
        self.plans.clear_coverage(write_key)
        return JSONResponse({"cleared": True, "writeKey": write_key})

    def _answer(self, entry: PlanInForce, write_key: str | None) -> dict[str, Any]:
        from mockpipe.plans.export import plan_to_data

        own = write_key is not None and self.plans.own(write_key) is entry
        return {
            "writeKey": write_key,
            "scope": "writeKey" if own else "default",
            "source": entry.describe(),
            "plan": plan_to_data(entry.plan),
        }


def _write_key(request: Request, *known: str) -> str | None:
    params = request.query_params
    check_known_params(params, known)
    key = params.get("writeKey")
    if key is not None and not key:
        raise ValueError("query parameter writeKey is empty: leave it out for the default plan")
    return key


def _no_plan(write_key: str | None, *, own: bool = False) -> JSONResponse:
    if write_key is None:
        message = "no tracking plan is in force (start with --plan PATH, or PUT /mockpipe/plan)"
    elif own:
        message = f"write key {write_key} has no tracking plan of its own"
    else:
        message = f"no tracking plan is in force for write key {write_key} (nor a default one)"
    return error_response("plan.not_found", message, 404)


async def watch_plans(plans: PlanRegistry, interval: float) -> None:
    """Reload the plans read from disk when their files change, every `interval` seconds, until cancelled.

    The files are read off the event loop; a broken file is logged and the plan in force stays."""
    while True:
        await asyncio.sleep(interval)
        if not plans.watched:
            continue
        try:
            await asyncio.to_thread(plans.reload_if_changed)
        except Exception:  # the watcher must outlive any surprise
            log.exception("mockpipe failed to check the tracking plan for changes")
