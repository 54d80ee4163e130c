"""The people and objects API: `/mockpipe/people`, `/mockpipe/people/{id}`, `/mockpipe/objects/...`.

`writeKey` picks the write key. Without it, a lookup by id uses the only write key that knows the
id, and answers 409 with the candidate keys when several do.

The lists come in pages, like `/mockpipe/calls`: `limit` (default 100, at most 1000) and `after`
(the `next` of the previous page; `next` is null on the last one), with the `total`. A list of tens
of thousands of people in one answer would take seconds, and hold up the calls meanwhile.

Reads run in a worker thread: the first one after a burst of calls applies them all to the model
(see `People`), and the event loop keeps taking calls meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.responses import bad_query, check_known_params, error_response, int_param, not_found, shown
from mockpipe.people.model import DEFAULT_PAGE_SIZE, AmbiguousIdError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from starlette.requests import Request

    from mockpipe.people.model import Page, People

PEOPLE_PARAMS = frozenset(("writeKey", "q", "after", "limit"))
OBJECT_PARAMS = frozenset(("writeKey", "typeId", "after", "limit"))


def _ambiguous(exc: AmbiguousIdError) -> JSONResponse:
    return error_response("ambiguous", f"{exc} (?writeKey=)", 409, writeKeys=exc.write_keys)


def _paging(params: Mapping[str, str], known: frozenset[str]) -> dict[str, Any]:
    """`after` and `limit` from the query; raises ValueError for those and for unknown parameters."""
    check_known_params(params, known)
    paging: dict[str, Any] = {}
    if "after" in params:  # a cursor: the `next` of the previous page
        paging["after"] = int_param(params, "after", 0)
    paging["limit"] = int_param(params, "limit", DEFAULT_PAGE_SIZE, expected="a whole number >= 1", low=1)
    return paging


def _page_answer(name: str, page: Page[Any], to_dict: Callable[[Any], Any]) -> JSONResponse:
    return JSONResponse(
        {name: [to_dict(item) for item in page.items], "count": len(page.items), "total": page.total, "next": page.next}
    )


class PeopleAPI:
    """Handlers over one `People` model."""

    def __init__(self, people: People) -> None:
        self.people = people

    def routes(self) -> list[Route]:
        return [
            Route("/mockpipe/people", self.list_people, methods=["GET"]),
            Route("/mockpipe/people/{person_id:path}", self.person, methods=["GET"]),
            Route("/mockpipe/objects", self.list_objects, methods=["GET"]),
            # `/mockpipe/objects/2` (and `/2/`) list the objects of type 2.
            Route("/mockpipe/objects/{type_id}", self.list_objects, methods=["GET"]),
            Route("/mockpipe/objects/{type_id}/{object_id:path}", self.object, methods=["GET"]),
        ]

    async def list_people(self, request: Request) -> JSONResponse:
        params = request.query_params
        try:
            page = await run_in_threadpool(
                self.people.people_page,
                params.get("writeKey"),
                id_contains=params.get("q"),
                **_paging(params, PEOPLE_PARAMS),
            )
        except ValueError as exc:
            return bad_query(exc)
        return _page_answer("people", page, lambda person: person.summary())

    async def person(self, request: Request) -> JSONResponse:
        person_id = request.path_params["person_id"]
        if not person_id:  # `/mockpipe/people/`
            return await self.list_people(request)
        try:
            found = await run_in_threadpool(
                self.people.person, person_id, write_key=request.query_params.get("writeKey")
            )
        except AmbiguousIdError as exc:
            return _ambiguous(exc)
        if found is None:
            return not_found(f"no person {shown(person_id)!r}")
        return JSONResponse(found.to_dict())

    async def list_objects(self, request: Request) -> JSONResponse:
        params = request.query_params
        type_id = request.path_params.get("type_id", params.get("typeId"))
        try:
            page = await run_in_threadpool(
                self.people.objects_page, params.get("writeKey"), type_id, **_paging(params, OBJECT_PARAMS)
            )
        except ValueError as exc:
            return bad_query(exc)
        return _page_answer("objects", page, lambda found: found.to_dict())

    async def object(self, request: Request) -> JSONResponse:
        type_id, object_id = request.path_params["type_id"], request.path_params["object_id"]
        if not object_id:  # `/mockpipe/objects/2/`
            return await self.list_objects(request)
        try:
            found = await run_in_threadpool(
                self.people.object, object_id, type_id, write_key=request.query_params.get("writeKey")
            )
        except AmbiguousIdError as exc:
            return _ambiguous(exc)
        if found is None:
            return not_found(f"no object {shown(object_id)!r} of type {shown(type_id)!r}")
        return JSONResponse(found.to_dict())
