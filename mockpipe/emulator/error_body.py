"""The one shape of mockpipe's error answers: `code` and `message`, which the SDKs read.

The tracking endpoints (and their injected faults) add `violations` and the `meta.errors` list that
the service's own answers carry; mockpipe's other endpoints add what their error needs. No web code
here: the tracking endpoints answer with these bytes directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mockpipe.spec.rules import Violation
    from mockpipe.types import JSONObject


def error_body(code: str, message: str, violations: Sequence[Violation] | None = None, **extra: Any) -> JSONObject:
    """`{"code", "message", ...extra}`; with `violations` (a tracking answer, even an empty list), also
    `violations` and `meta.errors` (the violations' messages, or the message when there are none)."""
    body: JSONObject = {"code": code, "message": message}
    if violations is not None:
        body["violations"] = [violation.to_dict() for violation in violations]
        body["meta"] = {"errors": [violation.message for violation in violations] or [message]}
    body.update(extra)
    return body


def tracking_error(code: str, message: str, violations: Sequence[Violation] = ()) -> bytes:
    """The JSON error answer of a tracking endpoint."""
    return orjson.dumps(error_body(code, message, violations))
