"""What the journal keeps of a request and of each call cut out of it, as read back by users.

The index fields of a call (messageId, userId, anonymousId, event, name) are those of its payload,
as `mockpipe.journal.packed.index_fields` reads them: the journal stores the payload's JSON and
derives them again on read.

Each record is defined once, here, and everything else names its fields (`CALL_FIELDS`,
`REQUEST_FIELDS`): building (`builder`), unpacking (`reader`) and the store's
columns. Adding a field to `Call` takes an edit here and a schema step in `mockpipe.journal.store`.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import orjson

if TYPE_CHECKING:
    from collections.abc import Callable

    from mockpipe.spec.rules import Violation
    from mockpipe.types import JSONObject


class _CallFields(NamedTuple):
    """The fields of a `Call` (see there)."""

    id: int
    request_id: int
    write_key: str
    type: str
    received_at: str
    region: str
    path: str
    valid: bool
    accepted: bool
    violations: tuple[Violation, ...]
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    event: str | None
    name: str | None
    raw: bytes
    duplicate_of: int | None = None


class Call(_CallFields):
    """One call as the emulator received it (a batch item counts as a call of its own).

    `message_id`, `user_id`, `anonymous_id`, `event` and `name` are `index_fields(payload)`: a call
    read from the journal has them from its `raw` JSON, and carries that parse (`carrying`) for the
    first `payload` access, so that a listing parses each call's JSON once."""

    # No __slots__: a tuple subclass cannot have any, and the instance dict holds the carried parse.

    def carrying(self, payload: JSONObject | None) -> Call:
        """This call, carrying `payload`, the parse of its `raw` made while reading it back (None: none)."""
        if payload is not None:
            self.__dict__["_parsed"] = payload
        return self

    @property
    def payload(self) -> JSONObject:
        """The enriched payload: a fresh dict on every access (the first one may be the parse made
        while the call was read back, handed over)."""
        payload: JSONObject | None = self.__dict__.pop("_parsed", None)
        if payload is None:
            payload = orjson.loads(self.raw)
        return payload

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "error")

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "warning")

    def to_dict(self, *, attempts: int = 1) -> JSONObject:
        return {
            "id": self.id,
            "requestId": self.request_id,
            "writeKey": self.write_key,
            "type": self.type,
            "receivedAt": self.received_at,
            "region": self.region,
            "path": self.path,
            "valid": self.valid,
            "accepted": self.accepted,
            "violations": [v.to_dict() for v in self.violations],
            "messageId": self.message_id,
            "duplicateOf": self.duplicate_of,
            "attempts": attempts,
            "payload": self.payload,
        }


class RequestRecord(NamedTuple):
    """One HTTP request (an attempt), accepted or rejected."""

    id: int
    received_at: str
    method: str
    path: str
    write_key: str | None
    auth: str | None  # "basic", "bearer", "body" or None
    status: int
    accepted: bool
    reason: str | None  # rejection or error code when not accepted
    message: str | None
    violations: tuple[Violation, ...]  # of the envelope (a batch without items, ...)
    call_ids: tuple[int, ...]
    size: int  # body bytes after decompression (or as far as they were read)
    content_encoding: str | None
    user_agent: str | None
    retry_count: str | None  # the X-Retry-Count header some SDKs send on resends
    body: bytes | None = None  # kept for rejected requests only, to show what was wrong
    fault: str | None = None  # an injected fault that answered this request

    def to_dict(self) -> JSONObject:
        return {
            "id": self.id,
            "receivedAt": self.received_at,
            "method": self.method,
            "path": self.path,
            "writeKey": self.write_key,
            "auth": self.auth,
            "status": self.status,
            "accepted": self.accepted,
            "reason": self.reason,
            "message": self.message,
            "violations": [v.to_dict() for v in self.violations],
            "callIds": list(self.call_ids),
            "size": self.size,
            "contentEncoding": self.content_encoding,
            "userAgent": self.user_agent,
            "retryCount": self.retry_count,
            "body": None if self.body is None else self.body.decode("utf-8", "replace"),
            "fault": self.fault,
        }


Record = TypeVar("Record", bound=tuple[Any, ...])


def builder(record: type[Record], *names: str) -> Callable[[tuple[Any, ...]], Record]:
    """A function making a `record` from the values of the fields `names`, in that order (the fields
    not named take their defaults): the mirror of `operator.attrgetter(*names)`, for the hot path,
    where a keyword call costs three times a tuple. The record's own field order does not matter.

    Raises TypeError now, not on the first call, for a field unknown or missing without a default."""
    fields: tuple[str, ...] = getattr(record, "_fields")  # noqa: B009 (a NamedTuple's, read from the type)
    defaults: dict[str, Any] = getattr(record, "_field_defaults")  # noqa: B009
    unknown = [name for name in names if name not in fields]
    unset = [name for name in fields if name not in names and name not in defaults]
    if unknown or unset or len(set(names)) != len(names):
        raise TypeError(f"cannot build {record.__name__} from {names}: unknown {unknown}, missing {unset}")
    if names == fields:  # every field, in the record's order: tuple.__new__ itself, no Python frame
        return functools.partial(tuple.__new__, record)
    rest = [name for name in fields if name not in names]
    tail = tuple(defaults[name] for name in rest)
    order = operator.itemgetter(*((*names, *rest).index(name) for name in fields))
    new = tuple.__new__
    return lambda values: new(record, order(values + tail))


def reader(record: type[tuple[Any, ...]], *names: str) -> Callable[[Any], Any]:
    """The values of the fields `names` of a `record`, in that order (one value for one name): what
    `operator.attrgetter(*names)` reads, as an itemgetter of their positions, twice as fast."""
    fields: tuple[str, ...] = getattr(record, "_fields")  # noqa: B009
    unknown = [name for name in names if name not in fields]
    if unknown:
        raise TypeError(f"{record.__name__} has no field {', '.join(unknown)}")
    return operator.itemgetter(*(fields.index(name) for name in names))


CALL_FIELDS: tuple[str, ...] = Call._fields
REQUEST_FIELDS: tuple[str, ...] = RequestRecord._fields


def __getattr__(name: str) -> Any:
    # `index_fields` and `id_text` are what the packed tables index (mockpipe.journal.packed), and are
    # read from there on the hot path; they are still found here, where they were first documented.
    if name in ("index_fields", "id_text"):
        from mockpipe.journal import packed

        return getattr(packed, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
