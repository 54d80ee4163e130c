"""`GET /mockpipe/contract[?writeKey=K][&format=json|yaml]`: the contract of the calls received so far.

JSON (the default): the events with their calls counted and their field lines (path, types, format,
required, how many values were seen), the contract as a plan in mockpipe's own format (`plan`) and
as the file `mockpipe plan infer` writes (`text`), and the write keys the journal knows. `format=yaml`
answers the contract file itself. When the emulator has a plan for the write key (`plan_for`), the
answer also holds `diff`: the changes from that plan to what was sent, each breaking or compatible.

Inferred from the journal's accepted calls (resends left out) on each request, in a worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockpipe.emulator.responses import bad_query, check_known_params, shown

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from mockpipe.contracts.infer import Contract
    from mockpipe.journal.journal import Journal
    from mockpipe.plans.model import Plan

CONTRACT_PATH = "/mockpipe/contract"
PARAMS = frozenset(("writeKey", "format"))
FORMATS = ("json", "yaml")


class ContractAPI:
    """The contract endpoint over one journal; `plan_for(write_key)` gives the plan in force, if any."""

    def __init__(self, journal: Journal, plan_for: Callable[[str | None], Plan | None] | None = None) -> None:
        self.journal = journal
        self.plan_for = plan_for

    def routes(self) -> list[Route]:
        return [Route(CONTRACT_PATH, self.contract, methods=["GET"])]

    async def contract(self, request: Request) -> Response:
        params = request.query_params
        try:
            check_known_params(params, PARAMS)
        except ValueError as exc:
            return bad_query(str(exc))
        fmt = params.get("format", "json")
        if fmt not in FORMATS:
            return bad_query(f"format must be json or yaml, not {shown(fmt)!r}")
        write_key = params.get("writeKey") or None
        if fmt == "yaml":
            text = await run_in_threadpool(lambda: self._infer(write_key).render())
            return Response(text, media_type="application/yaml; charset=utf-8")
        return JSONResponse(await run_in_threadpool(self.answer, write_key))

    def _infer(self, write_key: str | None) -> Contract:
        from mockpipe.contracts.infer import Contract

        calls = self.journal.records(write_key=write_key, accepted=True)
        return Contract().observe_all(call.payload for call in calls)

    def answer(self, write_key: str | None) -> dict[str, Any]:
        from mockpipe.contracts.diff import diff_plans
        from mockpipe.contracts.infer import event_label
        from mockpipe.plans.export import plan_to_data
        from mockpipe.plans.fields import parse_spec

        contract = self._infer(write_key)
        events = []
        for key, event in contract.ordered():
            fields = []
            for path, (spec, seen) in contract.lines(key).items():
                types, fmt, optional = parse_spec(path, spec)
                fields.append(
                    {"path": path, "spec": spec, "types": types, "format": fmt, "required": not optional, "seen": seen}
                )
            events.append(
                {"type": key[0], "name": key[1], "label": event_label(key), "calls": event.calls, "fields": fields}
            )
        plan = contract.to_plan()
        answer: dict[str, Any] = {
            "writeKey": write_key,
            "writeKeys": sorted(self.journal.write_keys()),
            "calls": len(contract),
            "events": events,
            "plan": plan_to_data(plan, with_source=False, compact=True),
            "text": contract.render(),
        }
        planned = self.plan_for(write_key) if self.plan_for is not None else None
        if planned is not None:
            answer["diff"] = diff_plans(planned, plan).to_data()
        return answer
