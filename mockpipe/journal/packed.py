"""Packed storage for the journal: each call and each request as a fixed row of 64-bit integers.

A Python object per field made the journal hold twice the JSON it keeps, and its containers made
every full garbage collection walk every call. Here a call costs its JSON plus one row of integers;
arrays hold no references, so the collector has nothing to walk. What repeats from row to row
(write key, type, path, status, user agent...) is stored once as a "shape"; what is rare
(violations, resends, rejection details, unusual times) sits in small dictionaries by id; the JSON
of a request's calls is one bytes object, each call a span of it. The text fields a query filters
on are kept as 60-bit keys (`text_key`), and every match is confirmed on the call read back.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from mockpipe.journal.records import Call, RequestRecord, builder, reader
from mockpipe.spec.times import UNUSUAL_TIME, time_ms, time_text

if TYPE_CHECKING:
    from mockpipe.spec.rules import Violation
    from mockpipe.types import JSONObject

# What `append` reads of a record, and what `call` / `request` make of a row, by field name (the
# order of the values below; one C call per record, whatever the records' own field order).
_CALL_NAMES = (
    "id", "request_id", "write_key", "type", "received_at", "region", "path", "valid", "accepted", "violations",
    "message_id", "user_id", "anonymous_id", "event", "name", "raw", "duplicate_of",
)  # fmt: skip
_REQUEST_NAMES = (
    "id", "received_at", "method", "path", "write_key", "auth", "status", "accepted", "reason", "message",
    "violations", "call_ids", "size", "content_encoding", "user_agent", "retry_count", "body", "fault",
)  # fmt: skip
_PACKED_CALL, _READ_CALL = reader(Call, *_CALL_NAMES), builder(Call, *_CALL_NAMES)
_PACKED_REQUEST, _READ_REQUEST = reader(RequestRecord, *_REQUEST_NAMES), builder(RequestRecord, *_REQUEST_NAMES)
KEY_MASK = (1 << 60) - 1  # a key below 2**60 is a two-digit Python int (32 bytes in a dict)


def text_key(text: str | None) -> int:
    """A key to find a text by: equal texts have equal keys (0 for None); readers confirm matches."""
    return 0 if text is None else (hash(text) & KEY_MASK) or 1


# -- the tables ------------------------------------------------------------------------------------

SHAPES_KEPT = 1 << 16  # distinct shapes shared; beyond, a row keeps its own (fuzzed headers, say)


class PackedRows:
    """Rows of `WIDTH` integers in one array, oldest first; the front is trimmed lazily.

    A row's physical index changes when the front is trimmed; its sequence number (`base + index`)
    does not, until `retain` renumbers every row."""

    WIDTH: ClassVar[int]
    ID = 0  # every row starts with its record's id
    SHAPE: ClassVar[int]  # where the row's shape number is

    def __init__(self) -> None:
        self.rows = array("q")
        self.head = 0  # physical index of the oldest live row
        self.base = 0  # sequence number of physical row 0
        self.shapes: list[tuple[Any, ...]] = []
        self._shape_numbers: dict[tuple[Any, ...], int] = {}
        self._own_shapes: dict[int, tuple[Any, ...]] = {}  # record id -> shape, once SHAPES_KEPT are shared
        self.unusual_times: dict[int, str] = {}  # record id -> received-at text (see UNUSUAL_TIME)
        self.in_order = True  # ids grow along the rows (false once a record was added out of order)
        self._last_id = -(2**63)

    def __len__(self) -> int:
        return self.stop - self.head

    @property
    def stop(self) -> int:
        """One past the physical index of the newest row."""
        return len(self.rows) // self.WIDTH

    def field(self, index: int, offset: int) -> int:
        return self.rows[index * self.WIDTH + offset]

    def shape(self, index: int) -> tuple[Any, ...]:
        number = self.rows[index * self.WIDTH + self.SHAPE]
        return self.shapes[number] if number >= 0 else self._own_shapes[self.rows[index * self.WIDTH]]

    def _shape_number(self, shape: tuple[Any, ...], record_id: int) -> int:
        number = self._shape_numbers.get(shape)
        if number is None:
            if len(self.shapes) >= SHAPES_KEPT:
                self._own_shapes[record_id] = shape
                return -1
            number = self._shape_numbers[shape] = len(self.shapes)
            self.shapes.append(shape)
        return number

    def _received(self, text: str, record_id: int) -> int:
        ms = time_ms(text)
        if ms == UNUSUAL_TIME:
            self.unusual_times[record_id] = text
        return ms

    def _received_text(self, ms: int, record_id: int) -> str:
        return self.unusual_times[record_id] if ms == UNUSUAL_TIME else time_text(ms)

    def first_after(self, record_id: int) -> int:
        """The physical index of the first row with an id above `record_id` (ids grow along the rows)."""
        rows, width = self.rows, self.WIDTH
        return (
            bisect.bisect_right(range(self.head, self.stop), record_id, key=lambda index: rows[index * width])
            + self.head
        )

    def index_of(self, record_id: int) -> int | None:
        """The physical index of the row with this id, or None."""
        rows, width = self.rows, self.WIDTH
        low = self.first_after(record_id - 1)
        if low < self.stop and rows[low * width] == record_id:
            return low
        if not self.in_order:  # records added out of order (restored by hand): look at each
            for index in range(self.head, self.stop):
                if rows[index * width] == record_id:
                    return index
        return None

    def _note_id(self, record_id: int) -> None:
        if record_id <= self._last_id:
            self.in_order = False
        self._last_id = record_id

    def drop_oldest(self) -> None:
        """Forget the oldest row (the caller has read what it needs of it)."""
        self._forget(self.rows[self.head * self.WIDTH])
        self.head += 1
        if self.head >= 256 and self.head * 8 >= self.stop:  # amortised: up to 8 rows moved per row dropped
            del self.rows[: self.head * self.WIDTH]
            self.base += self.head
            self.head = 0

    def retain(self, keep: Callable[[tuple[Any, ...]], bool]) -> None:
        """Keep only the rows whose shape `keep` accepts; every row gets a new sequence number."""
        width, rows = self.WIDTH, self.rows
        kept = array("q")
        for index in range(self.head, self.stop):
            if keep(self.shape(index)):
                kept.extend(rows[index * width : (index + 1) * width])
            else:
                self._forget(rows[index * width])
        self.base += self.stop  # new sequence numbers never meet old ones
        self.rows, self.head = kept, 0
        self._after_retain()

    def _forget(self, record_id: int) -> None:
        self._own_shapes.pop(record_id, None)
        self.unusual_times.pop(record_id, None)

    def _after_retain(self) -> None:
        """Drop what no kept row refers to any more."""


class CallTable(PackedRows):
    """Calls: id, request id, shape (write key, type, region, path, valid, accepted), received-at ms,
    keys of messageId, userId, anonymousId, event and name, and where the JSON is (blob, span)."""

    WIDTH = 11
    REQUEST, SHAPE, RECEIVED, MESSAGE, USER, ANONYMOUS, EVENT, NAME, BLOB, SPAN = range(1, 11)

    def __init__(self) -> None:
        super().__init__()
        # The JSON of one request's calls, end to end; a blob's number is blob_base + its index.
        self.blobs: list[bytes | None] = []
        self.blob_base = 0
        self._blob_head = 0  # blobs before it are gone (None), trimmed lazily
        self.violations: dict[int, tuple[Violation, ...]] = {}  # call id -> violations, when any
        self.duplicate_of: dict[int, int] = {}  # call id -> id of the first call with its messageId

    def append(self, calls: Sequence[Call]) -> int:
        """Add calls (of one request), a row at a time; returns the sequence number of the first. (A
        batch's calls go a column at a time: `mockpipe.journal.columns.append_columns`.)"""
        rows = self.rows
        first = self.base + len(rows) // self.WIDTH
        blob_number = self.blob_base + len(self.blobs)
        # One exact-size copy: orjson's own output keeps a buffer much larger than the JSON.
        self.blobs.append(
            memoryview(calls[0].raw).tobytes() if len(calls) == 1 else b"".join(call.raw for call in calls)
        )
        shape_numbers, last_id = self._shape_numbers, self._last_id
        values: list[int] = []  # the new rows, end to end: one fromlist into the array
        start, seen_text, seen_ms, shape, shape_number = 0, None, 0, None, -1
        # This runs for every call received: plain locals, one unpacking of the record, no calls
        # to helpers where an expression does (text_key is inlined).
        # fmt: off
        for (call_id, request_id, write_key, call_type, received_at, region, path, valid, accepted, violations,
             message_id, user_id, anonymous_id, event, name, raw, duplicate_of) in map(_PACKED_CALL, calls):
            # fmt: on
            if call_id <= last_id:
                self.in_order = False
            last_id = call_id
            if (
                shape is None
                or shape_number < 0
                or not (
                    call_type == shape[1]
                    and valid is shape[4]
                    and write_key == shape[0]
                    and region == shape[2]
                    and path == shape[3]
                    and accepted is shape[5]
                )
            ):
                shape = (write_key, call_type, region, path, valid, accepted)  # the calls of a request share most
                found = shape_numbers.get(shape)
                shape_number = self._shape_number(shape, call_id) if found is None else found
            if received_at is not seen_text:  # the calls of a request share one time text
                seen_text, seen_ms = received_at, time_ms(received_at)
            if seen_ms == UNUSUAL_TIME:
                self.unusual_times[call_id] = received_at
            end = start + len(raw)
            values += (
                call_id,
                request_id,
                shape_number,
                seen_ms,
                0 if message_id is None else hash(message_id) & KEY_MASK or 1,
                0 if user_id is None else hash(user_id) & KEY_MASK or 1,
                0 if anonymous_id is None else hash(anonymous_id) & KEY_MASK or 1,
                0 if event is None else hash(event) & KEY_MASK or 1,
                0 if name is None else hash(name) & KEY_MASK or 1,
                blob_number,
                start << 32 | end,
            )
            if violations:
                self.violations[call_id] = violations
            if duplicate_of is not None:
                self.duplicate_of[call_id] = duplicate_of
            start = end
        rows.fromlist(values)  # twice as fast as extend for a list
        self._last_id = last_id
        return first

    def call(self, index: int) -> Call:
        """The call at a physical index, read back."""
        offset = index * self.WIDTH
        row = self.rows[offset : offset + self.WIDTH]
        call_id, span = row[0], row[self.SPAN]
        write_key, call_type, region, path, valid, accepted = self.shape(index)
        blob = self.blobs[row[self.BLOB] - self.blob_base]
        assert blob is not None  # a live row's blob is kept
        raw = blob[span >> 32 : span & 0xFFFF_FFFF]
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:  # restored from elsewhere: no fields to index
            payload = None
        if not isinstance(payload, dict):
            payload = None
        message_id, user_id, anonymous_id, event, name = index_fields(payload or {})
        return _READ_CALL((
            call_id, row[self.REQUEST], write_key, call_type, self._received_text(row[self.RECEIVED], call_id), region,
            path, valid, accepted, self.violations.get(call_id, ()), message_id, user_id, anonymous_id, event, name,
            raw, self.duplicate_of.get(call_id),
        )).carrying(payload)  # fmt: skip

    def _forget(self, record_id: int) -> None:
        super()._forget(record_id)
        self.violations.pop(record_id, None)
        self.duplicate_of.pop(record_id, None)

    def drop_oldest(self) -> None:
        head, width = self.head, self.WIDTH
        blob = self.rows[head * width + self.BLOB]
        if head + 1 >= self.stop or self.rows[(head + 1) * width + self.BLOB] != blob:  # its blob's last call
            self.blobs[blob - self.blob_base] = None
            self._blob_head += 1
            if self._blob_head >= 256 and self._blob_head * 8 >= len(self.blobs):
                del self.blobs[: self._blob_head]
                self.blob_base += self._blob_head
                self._blob_head = 0
        super().drop_oldest()

    def _after_retain(self) -> None:
        """Keep the blobs of the kept rows only, numbered again from 0."""
        renumbered: dict[int, int] = {}
        blobs: list[bytes | None] = []
        rows, width = self.rows, self.WIDTH
        for at in range(self.BLOB, len(rows), width):
            number = renumbered.get(rows[at])
            if number is None:
                number = renumbered[rows[at]] = len(blobs)
                blobs.append(self.blobs[rows[at] - self.blob_base])
            rows[at] = number
        self.blobs, self.blob_base, self._blob_head = blobs, 0, 0


class RequestTable(PackedRows):
    """Requests: id, received-at ms, shape (method, path, write key, auth, status, accepted, content
    encoding, user agent, retry count), body size, and their calls as (first id, count)."""

    WIDTH = 6
    RECEIVED, SHAPE, SIZE, FIRST_CALL, CALL_COUNT = range(1, 6)
    DEFAULTS = (None, None, (), None, None, None)  # reason, message, violations, body, fault, call ids

    def __init__(self) -> None:
        super().__init__()
        # request id -> (reason, message, violations, body, fault, call ids when not consecutive),
        # for requests with any of them (rejected ones, mostly)
        self.details: dict[int, tuple[Any, ...]] = {}

    def append(self, request: RequestRecord) -> None:
        (request_id, received_at, method, path, write_key, auth, status, accepted, reason, message, violations,
         call_ids, size, encoding, user_agent, retry_count, body, fault) = _PACKED_REQUEST(request)  # fmt: skip
        self._note_id(request_id)
        consecutive = len(call_ids) < 2 or call_ids == tuple(range(call_ids[0], call_ids[0] + len(call_ids)))
        if not (
            accepted
            and consecutive
            and reason is None
            and message is None
            and body is None
            and fault is None
            and not violations
        ):  # the usual
            details = (reason, message, violations, body, fault, None if consecutive else call_ids)
            if details != self.DEFAULTS:
                self.details[request_id] = details
        shape = (method, path, write_key, auth, status, accepted, encoding, user_agent, retry_count)
        self.rows.extend(
            (
                request_id,
                self._received(received_at, request_id),
                self._shape_number(shape, request_id),
                size,
                call_ids[0] if consecutive and call_ids else 0,
                len(call_ids),
            )
        )

    def request(self, index: int) -> RequestRecord:
        """The request at a physical index, read back."""
        offset = index * self.WIDTH
        request_id, received, _, size, first_call, call_count = self.rows[offset : offset + self.WIDTH]
        method, path, write_key, auth, status, accepted, encoding, user_agent, retry_count = self.shape(index)
        reason, message, violations, body, fault, call_ids = self.details.get(request_id, self.DEFAULTS)
        if call_ids is None:
            call_ids = tuple(range(first_call, first_call + call_count))
        return _READ_REQUEST((
            request_id, self._received_text(received, request_id), method, path, write_key, auth, status, accepted,
            reason, message, violations, call_ids, size, encoding, user_agent, retry_count, body, fault,
        ))  # fmt: skip

    def _forget(self, record_id: int) -> None:
        super()._forget(record_id)
        self.details.pop(record_id, None)


# Shape positions the journal filters on.
CALL_WRITE_KEY, CALL_TYPE, CALL_VALID, CALL_ACCEPTED = 0, 1, 4, 5
REQUEST_WRITE_KEY, REQUEST_STATUS, REQUEST_ACCEPTED = 2, 4, 5


# -- what a call is indexed by ----------------------------------------------------------------------


def index_fields(payload: JSONObject) -> tuple[str, str | None, str | None, str | None, str | None]:
    """A call's (messageId, userId, anonymousId, event, name) as the journal indexes them: ids as text
    (SDKs accept numbers; "" for a missing messageId), event and name when they are strings."""
    message_id, user_id, anonymous_id = payload.get("messageId"), payload.get("userId"), payload.get("anonymousId")
    event, name = payload.get("event"), payload.get("name")
    # Strings and nulls, as nearly all calls have them, without a call to id_text (this runs per call).
    return (
        message_id if message_id.__class__ is str and message_id else id_text(message_id) or "",
        None if user_id is None else user_id if user_id.__class__ is str and user_id else id_text(user_id),
        None
        if anonymous_id is None
        else anonymous_id
        if anonymous_id.__class__ is str and anonymous_id
        else id_text(anonymous_id),
        event if isinstance(event, str) else None,
        name if isinstance(name, str) else None,
    )


def id_text(value: Any) -> str | None:
    """An id as text (SDKs accept numbers); None when missing or empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return orjson.dumps(value).decode()  # a wrong type (flagged by id.type): still findable
