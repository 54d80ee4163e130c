"""Which calls and requests to read: the queries, their HTTP query parameters, and the row test that
turns a call query into a look at the packed rows (`mockpipe.journal.packed`) before any call is read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from mockpipe.errors import QueryParameterError
from mockpipe.journal.packed import CALL_ACCEPTED, CALL_TYPE, CALL_VALID, CALL_WRITE_KEY, text_key
from mockpipe.journal.records import Call, RequestRecord

if TYPE_CHECKING:
    from mockpipe.journal.packed import CallTable

# The most calls or requests one answer of the inspection API holds (`limit` above it is capped).
MAX_PAGE = 1000


def _parse_params(params: Mapping[str, str], spec: Mapping[str, tuple[str, Callable[[str], Any]]]) -> dict[str, Any]:
    """The query fields set by HTTP query parameters, read as `spec` says; ValueError names a bad one."""
    values: dict[str, Any] = {}
    for param, (attribute, read) in spec.items():
        text = params.get(param)
        if text is not None:
            try:
                values[attribute] = read(text)
            except ValueError:
                raise QueryParameterError(param, text, EXPECTED.get(read, "a text")) from None
    return values


def _parse_count(text: str) -> int:
    number = int(text)  # ValueError: not digits, or more digits than Python converts
    if number < 0:
        raise ValueError("negative")
    return number


def _parse_status(text: str) -> int:
    return int(text)


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError(text)


# What each reader of a parameter expects, said in the 400 answer (and its `expected` field).
EXPECTED: dict[Callable[[str], Any], str] = {
    _parse_count: "a whole number >= 0",
    _parse_status: "an HTTP status code",
    _parse_bool: "true or false (also 1/0, yes/no)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQuery:
    """Which calls to return. Every filter given must match; `None` means any."""

    write_key: str | None = None
    type: str | None = None
    event: str | None = None
    name: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    message_id: str | None = None
    valid: bool | None = None
    accepted: bool | None = None
    duplicates: bool = False  # include the resends of a messageId already seen
    after: int | None = None  # only calls with a larger id (paging)
    limit: int | None = None

    # HTTP query parameters (camelCase, as on the wire): the field each sets, and how it is read.
    PARAMS: ClassVar[dict[str, tuple[str, Callable[[str], Any]]]] = {
        "writeKey": ("write_key", str),
        "type": ("type", str),
        "event": ("event", str),
        "name": ("name", str),
        "userId": ("user_id", str),
        "anonymousId": ("anonymous_id", str),
        "messageId": ("message_id", str),
        "valid": ("valid", _parse_bool),
        "accepted": ("accepted", _parse_bool),
        "duplicates": ("duplicates", _parse_bool),
        "after": ("after", _parse_count),
        "limit": ("limit", _parse_count),
    }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CallQuery:
        """A query from HTTP query parameters; raises ValueError naming a bad parameter."""
        return cls(**_parse_params(params, cls.PARAMS))

    def matches(self, call: Call) -> bool:
        """Whether a call passes every filter."""
        return (
            (self.write_key is None or call.write_key == self.write_key)
            and (self.type is None or call.type == self.type)
            and (self.event is None or call.event == self.event)
            and (self.name is None or call.name == self.name)
            and (self.user_id is None or call.user_id == self.user_id)
            and (self.anonymous_id is None or call.anonymous_id == self.anonymous_id)
            and (self.message_id is None or call.message_id == self.message_id)
            and (self.valid is None or call.valid == self.valid)
            and (self.accepted is None or call.accepted == self.accepted)
            and (self.duplicates or call.duplicate_of is None)
            and (self.after is None or call.id > self.after)
        )


CALL_QUERY_FIELDS = frozenset(f.name for f in fields(CallQuery))


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestQuery:
    """Which requests to return."""

    write_key: str | None = None
    accepted: bool | None = None
    status: int | None = None
    after: int | None = None
    limit: int | None = None

    PARAMS: ClassVar[dict[str, tuple[str, Callable[[str], Any]]]] = {
        "writeKey": ("write_key", str),
        "accepted": ("accepted", _parse_bool),
        "status": ("status", _parse_status),
        "after": ("after", _parse_count),
        "limit": ("limit", _parse_count),
    }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RequestQuery:
        """A query from HTTP query parameters; raises ValueError naming a bad parameter."""
        return cls(**_parse_params(params, cls.PARAMS))

    def matches(self, request: RequestRecord) -> bool:
        """Whether a request passes every filter."""
        return (
            (self.write_key is None or request.write_key == self.write_key)
            and (self.accepted is None or request.accepted == self.accepted)
            and (self.status is None or request.status == self.status)
            and (self.after is None or request.id > self.after)
        )


class WaitResult(NamedTuple):
    """What `wait_for` found: the matching calls, and whether it gave up before `count` of them."""

    calls: list[Call]
    timed_out: bool


def call_query(query: CallQuery | None, filters: Mapping[str, Any]) -> CallQuery:
    """The query given, or one made of keyword filters (TypeError naming an unknown one)."""
    if query is not None and filters:
        raise TypeError("pass either a CallQuery or keyword filters, not both")
    if query is not None:
        return query
    unknown = set(filters) - CALL_QUERY_FIELDS
    if unknown:
        raise TypeError(
            f"unknown call filter(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(CALL_QUERY_FIELDS))}"
        )
    return CallQuery(**filters)


def rows_decide(query: CallQuery) -> bool:
    """Whether `row_filter` alone decides the query: it filters on no text (messageId, userId, ...),
    whose keys in the rows are hashes that only suggest a match. Calls are then counted unread."""
    return (
        query.message_id is None
        and query.user_id is None
        and query.anonymous_id is None
        and query.event is None
        and query.name is None
    )


def row_filter(query: CallQuery, table: CallTable) -> Callable[[int], bool]:
    """A test of a row of `table` (by physical index) that rejects most calls the query does not match
    without reading them; the calls it lets through are confirmed with `query.matches`."""
    rows, width, duplicates = table.rows, table.WIDTH, table.duplicate_of
    keys = [
        (offset, text_key(value))
        for offset, value in (
            (table.MESSAGE, query.message_id),
            (table.USER, query.user_id),
            (table.ANONYMOUS, query.anonymous_id),
            (table.EVENT, query.event),
            (table.NAME, query.name),
        )
        if value is not None
    ]
    wanted = [
        (position, value)
        for position, value in (
            (CALL_WRITE_KEY, query.write_key),
            (CALL_TYPE, query.type),
            (CALL_VALID, query.valid),
            (CALL_ACCEPTED, query.accepted),
        )
        if value is not None
    ]
    shape_fits: dict[tuple[Any, ...], bool] = {}
    after = query.after
    skip_duplicates = not query.duplicates

    def candidate(index: int) -> bool:
        offset = index * width
        if after is not None and rows[offset] <= after:
            return False
        if skip_duplicates and rows[offset] in duplicates:
            return False
        for key_offset, key in keys:
            if rows[offset + key_offset] != key:
                return False
        if wanted:
            shape = table.shape(index)
            fits = shape_fits.get(shape)
            if fits is None:
                fits = shape_fits[shape] = all(shape[position] == value for position, value in wanted)
            return fits
        return True

    return candidate
