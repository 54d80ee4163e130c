"""Cutting a request body into calls: one call, or the items of a batch with the batch's shared fields
merged in, each with what the envelope itself got wrong about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from mockpipe.spec.jsonvalues import json_kind, pointer, show
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.rules import violation
from mockpipe.types import CALL_TYPE_SET

if TYPE_CHECKING:
    from mockpipe.spec.rules import Violation
    from mockpipe.types import JSONObject


@dataclass(slots=True)
class Item:
    """One call cut out of a request, before its own checks run."""

    type: str
    payload: JSONObject
    index: int | None = None
    size: int | None = None
    violations: list[Violation] = field(default_factory=list)
    json: bytes | None = None  # the call's JSON as sent, when it was written out to measure it

    @property
    def pointer(self) -> str:
        """Where the call sits in its request: "" for a single call, `/batch/<i>` for a batch item."""
        return "" if self.index is None else pointer("batch", self.index)


def split_request(
    path_type: str, body: JSONObject, *, body_size: int | None = None, max_call_bytes: int = MAX_CALL_BYTES
) -> tuple[list[Item], list[Violation]]:
    """Cut a parsed request body into calls.

    `path_type` is the call type named by the endpoint, or "batch". Batch-level `context` and
    `integrations` are merged into each item (the item's own keys win) and a batch-level `sentAt` is
    copied to items that have none. Returns the items and the violations of the envelope itself.
    """
    if path_type != "batch":
        item = Item(path_type, body, None, body_size)
        declared = body.get("type")
        if isinstance(declared, str) and declared != path_type:
            item.violations.append(violation("type.mismatch", "/type", body_type=declared, type=path_type))
        return [item], []

    batch = body.get("batch")
    if not isinstance(batch, list):
        return [], [violation("batch.type", "/batch", kind=json_kind(batch))]
    if not batch:
        return [], [violation("batch.empty", "/batch")]

    shared_context = body.get("context")
    shared_integrations = body.get("integrations")
    shared_sent_at = body.get("sentAt")
    # No item can exceed the per-call limit when the whole body is within it: skip re-serialising.
    measure = body_size is None or body_size > max_call_bytes
    items: list[Item] = []
    envelope: list[Violation] = []
    for index, raw in enumerate(batch):
        if not isinstance(raw, dict):
            envelope.append(violation("batch.item.object", pointer("batch", index), kind=json_kind(raw)))
            continue
        if isinstance(shared_context, dict):
            own = raw.get("context")
            raw["context"] = {**shared_context, **own} if isinstance(own, dict) else own or dict(shared_context)
        if isinstance(shared_integrations, dict):
            own = raw.get("integrations")
            raw["integrations"] = (
                {**shared_integrations, **own} if isinstance(own, dict) else own or dict(shared_integrations)
            )
        if shared_sent_at is not None and raw.get("sentAt") is None:
            raw["sentAt"] = shared_sent_at
        declared = raw.get("type")
        item = Item(declared if isinstance(declared, str) else "unknown", raw, index)
        if declared.__class__ is not str or declared not in CALL_TYPE_SET:
            item.violations.append(violation("batch.item.type", "/type", value=show(declared)))
        if measure:
            try:
                item.json = orjson.dumps(raw)
                item.size = len(item.json)
            except orjson.JSONEncodeError:  # nesting orjson cannot write: the journal rejects it when storing
                item.size = None
        items.append(item)
    return items, envelope
