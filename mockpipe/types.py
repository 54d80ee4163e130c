"""Type aliases shared across mockpipe."""

from __future__ import annotations

from typing import Any, Literal

JSONObject = dict[str, Any]
Severity = Literal["error", "warning"]

CALL_TYPES: tuple[str, ...] = ("identify", "track", "page", "screen", "group", "alias")
REGIONS: tuple[str, ...] = ("us", "eu")
