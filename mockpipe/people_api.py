"""The people and objects API: `/mockpipe/people`, `/mockpipe/people/{id}`, `/mockpipe/objects/...`.

`writeKey` picks the write key. Without it, a lookup by id uses the only write key that knows the
id, and answers 409 with the candidate keys when several do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.people import AmbiguousIdError

if TYPE_CHECKING:
    from starlette.requests import Request

    from mockpipe.people import People


def _ambiguous(exc: AmbiguousIdError) -> JSONResponse:
    return JSONResponse({"code": "ambiguous", "message": f"{exc} (?writeKey=)", "writeKeys": exc.write_keys},
                        status_code=409)


class PeopleAPI:
    """Handlers over one `People` model."""

    def __init__(self, people: People) -> None:
        self.people = people

    def routes(self) -> list[Route]:
        return [
            Route("/mockpipe/people", self.list_people, methods=["GET"]),
            Route("/mockpipe/people/{person_id:path}", self.person, methods=["GET"]),
            Route("/mockpipe/objects", self.list_objects, methods=["GET"]),
            Route("/mockpipe/objects/{type_id}/{object_id:path}", self.object, methods=["GET"]),
        ]

    async def list_people(self, request: Request) -> JSONResponse:
        found = self.people.people(request.query_params.get("writeKey"))
        return JSONResponse({"people": [p.summary() for p in found], "count": len(found)})

    async def person(self, request: Request) -> JSONResponse:
        person_id = request.path_params["person_id"]
        try:
            found = self.people.person(person_id, write_key=request.query_params.get("writeKey"))
        except AmbiguousIdError as exc:
            return _ambiguous(exc)
        if found is None:
            return JSONResponse({"code": "not_found", "message": f"no person {person_id!r}"}, status_code=404)
        return JSONResponse(found.to_dict())

    async def list_objects(self, request: Request) -> JSONResponse:
        params = request.query_params
        found = self.people.objects(params.get("writeKey"), params.get("typeId"))
        return JSONResponse({"objects": [o.to_dict() for o in found], "count": len(found)})

    async def object(self, request: Request) -> JSONResponse:
        type_id, object_id = request.path_params["type_id"], request.path_params["object_id"]
        try:
            found = self.people.object(object_id, type_id, write_key=request.query_params.get("writeKey"))
        except AmbiguousIdError as exc:
            return _ambiguous(exc)
        if found is None:
            return JSONResponse({"code": "not_found", "message": f"no object {object_id!r} of type {type_id!r}"},
                                status_code=404)
        return JSONResponse(found.to_dict())
