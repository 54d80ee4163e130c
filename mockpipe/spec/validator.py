"""The validator: every violation of a call, the one question the emulator, the tools and users ask.

`violations_of(item)` answers it for one call cut out of a request (`mockpipe.spec.requests`): the
fast lane first (`mockpipe.spec.fastlane`), every rule (`mockpipe.spec.checks`) only for a call it
cannot prove clean. `validate(payload)` is the public form, for a single call or a batch envelope given
from Python (`from mockpipe import validate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.spec.checks import every_rule
from mockpipe.spec.fastlane import proves_clean
from mockpipe.spec.jsonvalues import dumps
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.requests import Item, split_request
from mockpipe.types import CALL_TYPES

if TYPE_CHECKING:
    from mockpipe.spec.rules import Violation


def violations_of(
    item: Item, *, max_call_bytes: int = MAX_CALL_BYTES, region: str | None = None, write_key: str | None = None
) -> list[Violation]:
    """Every violation of one call cut out of a request: the envelope's findings about it, then the rules'.

    Paths are JSON pointers inside the call (`Violation.at(item.pointer)` places them in the request).
    This runs for every call the emulator receives: most are proved clean without asking every rule.
    """
    call_type, call, size = item.type, item.payload, item.size
    if not item.violations and proves_clean(
        call_type, call, size=size, max_call_bytes=max_call_bytes, region=region, write_key=write_key
    ):
        return []
    return item.violations + every_rule(
        call_type, call, size=size, max_call_bytes=max_call_bytes, region=region, write_key=write_key
    )


def validate(
    payload: Mapping[str, Any],
    *,
    call_type: str | None = None,
    region: str | None = None,
    write_key: str | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
) -> list[Violation]:
    """Every violation of a single call or a batch envelope, with JSON pointers into `payload`.

    The call type comes from `call_type` (an endpoint name or "batch"), else from the payload:
    "batch" when it has a `batch` key, otherwise its `type`.
    """
    if call_type is None:
        call_type = "batch" if "batch" in payload else payload.get("type")
    if call_type != "batch" and call_type not in CALL_TYPES:
        raise ValueError(
            f"cannot tell which call this is ({call_type!r}): pass call_type= "
            f"({', '.join(CALL_TYPES)} or batch), or give the payload a type"
        )
    encoded = dumps(payload)
    body = orjson.loads(encoded)  # a private copy: splitting merges batch context into items
    key = write_key if write_key is not None else body.get("writeKey")
    key = key if isinstance(key, str) else None
    size = None if call_type == "batch" else len(encoded)
    items, found = split_request(call_type, body, body_size=size, max_call_bytes=max_call_bytes)
    for item in items:
        found.extend(
            v.at(item.pointer) for v in violations_of(item, max_call_bytes=max_call_bytes, region=region, write_key=key)
        )
    return found
