"""What the rules know of a call's fields: the keys a call may carry, the documented types of its
context, the allowed values, Customer.io's reserved (semantic) events and the region a write key names.

Both the checks (`mockpipe.spec.checks`) and the fast proof (`mockpipe.spec.validator`) read these
tables, so that the two cannot disagree on what a field is.
"""

from __future__ import annotations

import functools
import re

from mockpipe.spec.jsonvalues import pointer

CHANNELS = frozenset(("browser", "server", "mobile"))
DEVICE_TYPES = frozenset(("android", "ios"))
ID_FIELDS = ("userId", "anonymousId", "previousId", "groupId")

# Top-level keys a call may carry; anything else is open, but near-misses of these are flagged.
KNOWN_KEYS = frozenset(
    (
        "type",
        "userId",
        "anonymousId",
        "previousId",
        "groupId",
        "event",
        "name",
        "category",
        "properties",
        "traits",
        "context",
        "integrations",
        "messageId",
        "timestamp",
        "originalTimestamp",
        "sentAt",
        "receivedAt",
        "writeKey",
        "channel",
        "objectTypeId",
        "version",
    )
)
_TYPO_INDEX = {key.lower(): key for key in KNOWN_KEYS}

SEMANTIC_NEEDS_USER = frozenset(
    (
        "Device Created or Updated",
        "Device Deleted",
        "User Deleted",
        "User Suppressed",
        "User Unsuppressed",
        "Relationship Deleted",
    )
)
SEMANTIC_DEVICE = frozenset(("Device Created or Updated", "Device Deleted"))
SEMANTIC_OBJECT = frozenset(("Relationship Deleted", "Object Deleted"))
SEMANTIC_EVENTS = SEMANTIC_NEEDS_USER | SEMANTIC_OBJECT

# Documented string and boolean fields of the context sub-objects (seed and SPEC).
CONTEXT_OBJECT_STRINGS: dict[str, tuple[str, ...]] = {
    "page": ("name", "path", "referrer", "search", "title", "url"),
    "app": ("name", "version", "build", "namespace"),
    "device": ("id", "advertisingId", "manufacturer", "model", "name", "version", "token"),
    "os": ("name", "version"),
    "library": ("name", "version"),
    "network": ("carrier",),
}
CONTEXT_STRINGS = ("ip", "locale", "userAgent", "timezone")
NETWORK_BOOLS = ("bluetooth", "cellular", "wifi")

_REGION_IN_KEY = re.compile(r"(?:^|_)(us|eu)_")


def _fields(prefix: tuple[str, ...], names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(key, JSON pointer) pairs, computed once: building pointers per call was most of the validator's time."""
    return tuple((name, pointer(*prefix, name)) for name in names)


TOP_OBJECTS = _fields((), ("properties", "traits"))
TOP_STRINGS = _fields((), ("event", "name", "category", "messageId", "writeKey"))
TOP_TIMES = _fields((), ("timestamp", "originalTimestamp", "sentAt"))
CONTEXT_STRING_FIELDS = _fields(("context",), CONTEXT_STRINGS)
CONTEXT_SECTIONS = tuple(
    (section, pointer("context", section), _fields(("context", section), strings))
    for section, strings in CONTEXT_OBJECT_STRINGS.items()
)
NETWORK_BOOL_FIELDS = _fields(("context", "network"), NETWORK_BOOLS)


def near_miss(key: str) -> str | None:
    """The known key that `key` misspells (case, `_` or `-` aside), if any; a known key itself gives itself."""
    return _TYPO_INDEX.get(key.lower().replace("_", "").replace("-", ""))


@functools.lru_cache(maxsize=1024)  # a server sees a handful of keys, each on every call
def key_region(write_key: str) -> str | None:
    """The region a write key names (`pk_eu_…`, `…_us_…`), if any."""
    found = _REGION_IN_KEY.search(write_key)
    return found.group(1) if found else None
