"""The one time codec of the project: ISO-8601 texts in and out, and received-at times in milliseconds.

Every time mockpipe writes (`receivedAt`, a corrected `timestamp`, a suggestion in a message) comes
from `format_time`, and every time it reads goes through `parse_timestamp`. The journal keeps
received-at times as milliseconds since `EPOCH`; `time_text` and `time_ms` convert them both ways.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def format_time(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, as the SDKs write it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime | None:
    """An ISO-8601 string as an aware datetime (naive ones are taken as UTC), or None."""
    if value[-1:] == "z":  # RFC 3339 allows a lower-case zone designator; fromisoformat does not
        value = value[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# Texts found to be timestamps lately: the calls of a batch, and an SDK's sentAt, repeat them. Only
# `is_timestamp` writes here; the checks look here first, since a lookup costs less than a call.
VALID_TIMESTAMPS: dict[str, None] = {}
_VALID_TIMESTAMPS_KEPT = 4096


def is_timestamp(value: str) -> bool:
    """Whether a text is a timestamp `parse_timestamp` reads (remembered in VALID_TIMESTAMPS when it is)."""
    if value in VALID_TIMESTAMPS:
        return True
    if parse_timestamp(value) is None:
        return False
    if len(VALID_TIMESTAMPS) >= _VALID_TIMESTAMPS_KEPT:
        VALID_TIMESTAMPS.clear()
    VALID_TIMESTAMPS[value] = None
    return True


# -- received-at times, as milliseconds since EPOCH ------------------------------------------------

UNUSUAL_TIME = -(2**63)  # a time text `format_time` would not write: the journal keeps it as text
_last_time: tuple[int, str] = (0, format_time(EPOCH))


def time_text(ms: int) -> str:
    """`format_time` of a time in milliseconds (the last one is cached: requests come in bursts)."""
    global _last_time
    last = _last_time
    if last[0] == ms:
        return last[1]
    text = format_time(EPOCH + ms * MILLISECOND)
    _last_time = (ms, text)
    return text


def time_ms(text: str) -> int:
    """The milliseconds of a received-at text, or UNUSUAL_TIME when the text would not come back the same."""
    last = _last_time
    if last[1] == text:
        return last[0]
    try:
        ms = (datetime.fromisoformat(text) - EPOCH) // MILLISECOND
        return ms if time_text(ms) == text else UNUSUAL_TIME
    except (TypeError, ValueError, OverflowError):  # not a time, or one of year 0 or 10000 in UTC
        return UNUSUAL_TIME
