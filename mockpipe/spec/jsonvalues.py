"""Small facts about JSON values, shared by the checks, the factories and the tools: a value's JSON
kind, JSON pointers, a short rendering for messages, and JSON bytes of anything Python holds."""

from __future__ import annotations

import json
from typing import Any

import orjson

SHOW_LIMIT = 60  # characters of a value quoted in a message


def json_kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) to the given keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def is_number(value: Any) -> bool:
    """A JSON number: an int or a float, but not a bool (which Python counts as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def has_id(value: Any) -> bool:
    """An id is present when it is a non-empty string, or a number (which SDKs accept)."""
    return (isinstance(value, str) and value != "") or is_number(value)


def dumps(value: Any) -> bytes:
    """JSON bytes of a payload given from Python, which may hold what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def show(value: Any) -> str:
    """A short JSON rendering of a value for messages."""
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # integers beyond 64 bits, nesting beyond orjson's limit
        text = repr(value)
    return text if len(text) <= SHOW_LIMIT else text[: SHOW_LIMIT - 3] + "..."
