"""`/mockpipe/faults`: the HTTP API that sets, lists and clears the fault rules of `mockpipe.emulator.faults`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.fault_specs import FaultError
from mockpipe.emulator.responses import error_response, path_id, shown

if TYPE_CHECKING:
    from starlette.requests import Request

    from mockpipe.emulator.faults import Faults


def _error(message: str, status: int = 400) -> JSONResponse:
    return error_response("fault.invalid" if status == 400 else "not_found", message, status)


class FaultsAPI:
    """`/mockpipe/faults`: set, list and clear fault rules over HTTP.

    `POST /mockpipe/faults` with a JSON object (answers 201 with the rule):
    `writeKey` (leave out for every key), `status` (200-599), `retryAfter` (whole seconds from 0 to
    86400, or an HTTP date), `body` (an object answered as JSON, or a string as text; default
    `{"code","message"}`),
    `action` (`"status"` when a status is given, `"close"`, or `"delay"`), `delayMs` (0-300000),
    `count` (the next N requests, default 1) or `all: true`, `fraction` (0-1, with an optional
    `count` cap and `seed`). `GET /mockpipe/faults?writeKey=` lists the rules (with their `hits` and
    `remaining`), `DELETE /mockpipe/faults?writeKey=` clears them, `DELETE /mockpipe/faults/{id}` one.
    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    def routes(self) -> list[Route]:
        return [
            Route("/mockpipe/faults", self.list, methods=["GET"]),
            Route("/mockpipe/faults", self.add, methods=["POST"]),
            Route("/mockpipe/faults", self.clear, methods=["DELETE"]),
            Route("/mockpipe/faults/{rule_id}", self.remove, methods=["DELETE"]),
        ]

    async def list(self, request: Request) -> JSONResponse:
        rules = self.faults.rules(request.query_params.get("writeKey"))
        return JSONResponse({"faults": [rule.to_dict() for rule in rules], "count": len(rules)})

    async def add(self, request: Request) -> JSONResponse:
        try:
            spec = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            return _error(f"the body is not JSON: {exc}")
        try:
            rule = self.faults.add_json(spec)
        except FaultError as exc:
            return _error(str(exc))
        return JSONResponse({"fault": rule.to_dict()}, status_code=201)

    async def clear(self, request: Request) -> JSONResponse:
        return JSONResponse({"deleted": self.faults.clear(request.query_params.get("writeKey"))})

    async def remove(self, request: Request) -> JSONResponse:
        text = request.path_params["rule_id"]
        rule_id = path_id(text)
        if rule_id is None or not self.faults.remove(rule_id):
            return _error(f"no fault {shown(text)}", 404)
        return JSONResponse({"deleted": 1})
