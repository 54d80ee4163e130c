"""What production adds to every call it receives: receivedAt, messageId, type and timestamp."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

import orjson

from mockpipe.spec.times import format_time, parse_timestamp
from mockpipe.types import CALL_TYPE_SET

if TYPE_CHECKING:
    from datetime import datetime

    from mockpipe.types import JSONObject


def enrich(
    call_type: str, payload: JSONObject, received_at: datetime, received_text: str, position: int | None = None
) -> None:
    """Complete `payload` in place, as the service does before storing a call.

    - `type` from the endpoint (or the batch item), `receivedAt` the server time;
    - `messageId`: a UUID when the client sent none, derived from the call, the time it arrived (to the
      microsecond) and its `position` in a batch: processing the same request again gives the same one;
    - `timestamp`: kept when the client sent one; otherwise corrected for the device clock as
      `receivedAt - (sentAt - originalTimestamp)`, or `originalTimestamp` when there is no
      `sentAt`, or `receivedAt` when there is neither (RudderStack's rule, which SPEC implies).
    """
    if call_type in CALL_TYPE_SET:
        payload["type"] = call_type
    payload["receivedAt"] = received_text
    if not payload.get("messageId"):
        payload["messageId"] = _derived_message_id(payload, received_at, position)
    if payload.get("timestamp") is None:
        payload["timestamp"] = _corrected_timestamp(payload, received_at) or received_text


def _derived_message_id(payload: JSONObject, received_at: datetime, position: int | None) -> str:
    """A version-4-shaped UUID that only this call, arriving at this moment, gets."""
    try:
        sent = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # nesting too deep to write (the call is refused when stored)
        return str(uuid.uuid4())
    seed = b"%s|%d|%s" % (received_at.isoformat().encode(), -1 if position is None else position, sent)
    return str(uuid.UUID(bytes=hashlib.blake2b(seed, digest_size=16).digest(), version=4))


def _corrected_timestamp(payload: JSONObject, received_at: datetime) -> str | None:
    original = payload.get("originalTimestamp")
    if not isinstance(original, str):
        return None
    original_at = parse_timestamp(original)
    if original_at is None:
        return None
    sent = payload.get("sentAt")
    sent_at = parse_timestamp(sent) if isinstance(sent, str) else None
    try:
        return format_time(original_at if sent_at is None else received_at - (sent_at - original_at))
    except (OverflowError, ValueError):  # dates near year 1 or 9999 that cannot be shifted
        return None
