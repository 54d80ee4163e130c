"""The JSON error answers of mockpipe's own endpoints (inspection, people, faults, UI), in the shape
every mockpipe error has (`mockpipe.emulator.error_body`), and the check of their query parameters."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import JSONResponse

from mockpipe.emulator.error_body import error_body
from mockpipe.errors import QueryParameterError


def error_response(code: str, message: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(code, message, **extra), status_code=status)


def bad_query(problem: str | ValueError) -> JSONResponse:
    """400 `query.invalid`; a `QueryParameterError` also names the `parameter` and what was `expected`."""
    if isinstance(problem, QueryParameterError):
        return error_response(
            "query.invalid", str(problem), 400, parameter=problem.parameter, expected=problem.expected
        )
    return error_response("query.invalid", str(problem), 400)


def not_found(message: str) -> JSONResponse:
    return error_response("not_found", message, 404)


def check_known_params(params: Mapping[str, str], known: Iterable[str]) -> None:
    """Refuse a misspelt parameter (`user_id=`) rather than silently ignore it; raises ValueError."""
    known = set(known)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown query parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


# Ids in paths (`/mockpipe/calls/{id}`) are at most this large: SQLite's integers, where a store keeps them.
MAX_PATH_ID = 2**63 - 1


def path_id(text: str) -> int | None:
    """The id in a path segment (ASCII digits), or None for anything else: such an id names nothing.

    Parsed here rather than by Starlette's `int` convertor, which answers 500 to more digits than
    Python converts (4300), and passes ids too large for the store on."""
    digits = text.lstrip("0") or "0"
    if not (text.isascii() and text.isdigit()) or len(digits) > len(str(MAX_PATH_ID)):
        return None
    number = int(digits)
    return number if number <= MAX_PATH_ID else None


def shown(text: str, limit: int = 40) -> str:
    """`text` for a message, cut short: a 5000-digit parameter does not belong in an error answer in full."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


COUNT = "a whole number >= 0"


def int_param(params: Mapping[str, str], name: str, default: int, *, expected: str = COUNT, low: int = 0) -> int:
    """The integer (>= `low`) in query parameter `name` (`default` when it is absent); raises
    `QueryParameterError` naming it and what was `expected`."""
    text = params.get(name)
    if text is None:
        return default
    try:
        number = int(text)  # ValueError: not digits, or more digits than Python converts
    except ValueError:
        number = low - 1
    if number < low:
        raise QueryParameterError(name, text, expected)
    return number


def float_param(params: Mapping[str, str], name: str, default: float, *, low: float, high: float, unit: str) -> float:
    """The number from `low` to `high` in query parameter `name` (`default` when it is absent); raises
    `QueryParameterError` naming it and what was expected (`unit`: "seconds")."""
    text = params.get(name)
    if text is None:
        return default
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not low <= number <= high:  # also nan
        raise QueryParameterError(name, text, f"a number of {unit} from {low:g} to {high:g}")
    return number
