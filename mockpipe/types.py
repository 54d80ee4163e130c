"""Type aliases shared across mockpipe."""

from __future__ import annotations

from typing import Any, Literal

JSONObject = dict[str, Any]
Severity = Literal["error", "warning"]

CALL_TYPES: tuple[str, ...] = ("identify", "track", "page", "screen", "group", "alias")
CALL_TYPE_SET = frozenset(CALL_TYPES)  # for the hot path: one hash, not six comparisons
REGIONS: tuple[str, ...] = ("us", "eu")
