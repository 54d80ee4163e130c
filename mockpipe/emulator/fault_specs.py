"""The options of a fault rule, checked and normalised: as `Faults.add` takes them (Python names) or as
`POST /mockpipe/faults` does (a JSON object, see `mockpipe.emulator.faults_api`).

Errors name each option as the caller spelt it: `retry_after` from Python, `retryAfter` over HTTP.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.types import JSONObject

MAX_DELAY_MS = 300_000  # five minutes: longer than any SDK's request timeout
MAX_RETRY_AFTER = 86_400  # seconds: a day is more than any client waits
# Objects and arrays in a JSON body: the answers that list a rule wrap its body in a few more levels, and
# orjson encodes at most 254 of them (deeper, every answer listing the rules would fail).
MAX_BODY_DEPTH = 64
JSON_FIELDS = frozenset(
    {"writeKey", "status", "count", "all", "fraction", "seed", "retryAfter", "delayMs", "action", "body"}
)
ACTIONS = ("status", "close", "delay")
# How errors name the options: as `Faults.add` spells them, or as `POST /mockpipe/faults` does.
PYTHON_NAMES = {"retry_after": "retry_after", "delay_ms": "delay_ms", "close": "close=True", "every": "None"}
HTTP_NAMES = {"retry_after": "retryAfter", "delay_ms": "delayMs", "close": 'action "close"', "every": '"all": true'}


class FaultError(MockpipeError, ValueError):
    """A fault rule that cannot be set (a status out of range, a count and `all` together, ...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSpec:
    """The checked options of one rule, before it gets an id."""

    write_key: str | None
    action: str  # "status", "close" or "delay"
    status: int | None
    retry_after: str | None  # the header's value
    delay_ms: int
    count: int | None  # requests it takes; None: every one
    fraction: float | None
    seed: int | None
    body: bytes | None
    content_type: bytes


def check_rule(
    *,
    write_key: str | None,
    status: int | None,
    count: int | None,
    fraction: float | None,
    seed: int | None,
    retry_after: int | str | None,
    delay_ms: int,
    close: bool,
    body: bytes | str | JSONObject | None,
    names: Mapping[str, str] = PYTHON_NAMES,
) -> RuleSpec:
    """The options of `Faults.add`, checked; raises `FaultError` naming them as `names` spells them."""
    if close and status is not None:
        raise FaultError("a rule either answers a status or closes the connection, not both")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599):
        raise FaultError(f"status must be an integer from 200 to 599, not {status!r}")
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, int) or not 0 <= delay_ms <= MAX_DELAY_MS:
        raise FaultError(f"{names['delay_ms']} must be an integer from 0 to {MAX_DELAY_MS}, not {delay_ms!r}")
    if status is None and not close and delay_ms == 0:
        raise FaultError(f"give a status, {names['close']}, or a delay ({names['delay_ms']})")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise FaultError(f"count must be a positive integer, or {names['every']} for every request, not {count!r}")
    if fraction is not None and (
        isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1
    ):
        raise FaultError(f"fraction must be a number in (0, 1], not {fraction!r}")
    if retry_after is not None and status is None:
        raise FaultError(f"{names['retry_after']} goes with a status")
    if body is not None and status is None:
        raise FaultError("body goes with a status")
    action = "status" if status is not None else "close" if close else "delay"
    encoded, content_type = _body(body)
    return RuleSpec(
        write_key=write_key,
        action=action,
        status=status,
        retry_after=_retry_after(retry_after, names["retry_after"]),
        delay_ms=delay_ms,
        count=count,
        fraction=None if fraction is None else float(fraction),
        seed=seed,
        body=encoded,
        content_type=content_type,
    )


def rule_from_json(spec: Any) -> RuleSpec:
    """A rule in the JSON shape of `POST /mockpipe/faults`, checked; raises `FaultError`."""
    if not isinstance(spec, dict):
        raise FaultError("the body must be a JSON object")
    unknown = set(spec) - JSON_FIELDS
    if unknown:
        raise FaultError(f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(JSON_FIELDS))}")
    write_key = spec.get("writeKey")
    if write_key is not None and (not isinstance(write_key, str) or not write_key):
        raise FaultError("writeKey must be a non-empty string (leave it out for every key)")
    action = spec.get("action", "status" if "status" in spec else "delay" if "delayMs" in spec else None)
    if action not in ACTIONS:
        raise FaultError(f"action must be one of {', '.join(ACTIONS)} (or give a status), not {action!r}")
    if action == "status" and "status" not in spec:
        raise FaultError("action status needs a status")
    if action != "status" and "status" in spec:
        raise FaultError(f"a status does not go with action {action}")
    every = spec.get("all", False)
    if not isinstance(every, bool):
        raise FaultError("all must be true or false")
    if every and "count" in spec:
        raise FaultError("give count or all, not both")
    default_count = None if every or "fraction" in spec else 1
    seed = spec.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise FaultError("seed must be an integer")
    return check_rule(
        write_key=write_key,
        status=spec.get("status"),
        count=spec.get("count", default_count),
        fraction=spec.get("fraction"),
        seed=seed,
        retry_after=spec.get("retryAfter"),
        delay_ms=spec.get("delayMs", 0),
        close=action == "close",
        body=spec.get("body"),
        names=HTTP_NAMES,
    )


def _retry_after(value: object, name: str) -> str | None:
    """The Retry-After header of a rule: whole seconds (a number, or digits in a string) up to a day,
    or an HTTP date. RFC 9110 allows nothing else: `1.5` would be read differently by each client."""
    if value is None:
        return None
    seconds: int | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A JSON `2.0` is the number 2; 1.5 or 1e308 are no delay-seconds.
        seconds = int(value) if isinstance(value, int) or value.is_integer() else None
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        digits = value.strip()
        seconds = int(digits) if len(digits) <= 9 else MAX_RETRY_AFTER + 1  # int() refuses 4300+ digits
    elif isinstance(value, str) and not value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        try:
            email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
        else:
            return value.strip()
    if seconds is None or not 0 <= seconds <= MAX_RETRY_AFTER:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise FaultError(f"{name} must be whole seconds from 0 to {MAX_RETRY_AFTER}, or an HTTP date, not {shown}")
    return str(seconds)


def _body(body: bytes | str | JSONObject | None) -> tuple[bytes | None, bytes]:
    """The body a status rule answers, and its content type: JSON for an object, text for a string."""
    if body is None:
        return None, b"application/json"
    if isinstance(body, dict):
        if _nesting(body) > MAX_BODY_DEPTH:
            raise FaultError(f"body is nested too deeply: at most {MAX_BODY_DEPTH} levels of objects and arrays")
        return orjson.dumps(body), b"application/json"
    if isinstance(body, str):
        return body.encode(), b"text/plain; charset=utf-8"
    if isinstance(body, bytes):
        return body, b"application/octet-stream"
    raise FaultError("body must be a JSON object, a string or bytes")


def _nesting(value: object) -> int:
    """How deep objects and arrays nest in `value`, counted without recursion (a deep body would exhaust
    Python's stack), and no further than one level past `MAX_BODY_DEPTH`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_BODY_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest
