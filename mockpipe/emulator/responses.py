"""The JSON error answers of mockpipe's own endpoints (inspection, people, faults, UI), in the shape
every mockpipe error has (`mockpipe.emulator.error_body`), and the check of their query parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import JSONResponse

from mockpipe.emulator.error_body import error_body


def error_response(code: str, message: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(code, message, **extra), status_code=status)


def bad_query(message: str) -> JSONResponse:
    return error_response("query.invalid", message, 400)


def not_found(message: str) -> JSONResponse:
    return error_response("not_found", message, 404)


def check_known_params(params: Mapping[str, str], known: Iterable[str]) -> None:
    """Refuse a misspelt parameter (`user_id=`) rather than silently ignore it; raises ValueError."""
    known = set(known)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown query parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
