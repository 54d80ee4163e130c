"""Recording a batch a column at a time: the calls of one request read, keyed, indexed, packed and
counted by C loops (`map`, list counts, array slices, `Counter`) instead of a Python step per call per
field. The journal takes this way for a request of `COLUMNS_FROM` calls or more; it makes exactly the
rows, index entries and counts the call-by-call way makes (`tests/journal/test_columns.py`). This module
works on the journal's own tables (`CallTable`, `Partition`): it is their batch half.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import accumulate, chain, compress
from typing import TYPE_CHECKING

from mockpipe.journal.packed import KEY_MASK
from mockpipe.journal.partitions import CHECK_MASK, ID_SHIFT
from mockpipe.journal.records import Call, reader
from mockpipe.spec.times import UNUSUAL_TIME, time_ms

if TYPE_CHECKING:
    from mockpipe.journal.packed import CallTable
    from mockpipe.journal.partitions import Partition, SourceStatus

COLUMNS_FROM = 8  # calls of one request from which the journal goes a column at a time

# One field each (or the shape's six), at C speed.
_ID, _REQUEST_ID, _RAW, _RECEIVED_AT, _VIOLATIONS, _DUPLICATE_OF = (
    reader(Call, name) for name in ("id", "request_id", "raw", "received_at", "violations", "duplicate_of")
)
_MESSAGE_ID, _USER_ID, _ANONYMOUS_ID, _EVENT, _NAME = (
    reader(Call, name) for name in ("message_id", "user_id", "anonymous_id", "event", "name")
)
_WRITE_KEY, _TYPE, _VALID, _ACCEPTED = (reader(Call, name) for name in ("write_key", "type", "valid", "accepted"))
_SHAPE_OF = reader(Call, "write_key", "type", "region", "path", "valid", "accepted")


def index_fresh_batch(partition: Partition, calls: Sequence[Call]) -> list[int] | None:
    """Index the messageIds of a batch's calls when they are what a batch's usually are: of this one
    partition's write key, each new and different (no resend to mark), with no fault attempts waiting
    for them. Returns their keys (`text_key`), or None (nothing done: `Journal.record` takes them call
    by call)."""
    write_key = partition.source.write_key
    if list(map(_WRITE_KEY, calls)).count(write_key) != len(calls) or partition.failed_attempts:
        return None
    message_ids = list(map(_MESSAGE_ID, calls))
    if None in message_ids:
        return None
    keys = [hash(message_id) & KEY_MASK or 1 for message_id in message_ids]
    first_by_message = partition.first_by_message
    if len(set(keys)) != len(keys) or any(map(first_by_message.__contains__, keys)):
        return None  # a messageId twice, or seen before: resends are marked call by call
    # The entries `Partition.first_entry` reads: id, a second fingerprint of the messageId, verdict.
    checks = [hash("\x00" + message_id) & CHECK_MASK for message_id in message_ids]
    first_by_message.update(
        zip(
            keys,
            [
                call_id << ID_SHIFT | check << 1 | accepted
                for call_id, check, accepted in zip(map(_ID, calls), checks, map(_ACCEPTED, calls), strict=True)
            ],
            strict=True,
        )
    )
    return keys


def append_columns(table: CallTable, calls: Sequence[Call], message_keys: Sequence[int] | None = None) -> int:
    """`CallTable.append` for the calls of a batch, a column at a time: each field is read, keyed and written
    into the rows by C loops (`map`, list and array slices), a few Python steps per call in all."""
    rows, width, count = table.rows, table.WIDTH, len(calls)
    first = table.base + len(rows) // width
    blob_number = table.blob_base + len(table.blobs)
    raws = list(map(_RAW, calls))
    table.blobs.append(b"".join(raws))
    ids = list(map(_ID, calls))
    if ids[0] <= table._last_id or sorted(set(ids)) != ids:
        table.in_order = False
    table._last_id = ids[-1]
    shapes = list(map(_SHAPE_OF, calls))
    found = list(map(table._shape_numbers.get, shapes))
    shape_numbers: list[int] = (
        found  # type: ignore[assignment]  # no None in it
        if None not in found
        else [
            table._shape_number(shape, call_id) if number is None else number
            for shape, call_id, number in zip(shapes, ids, found, strict=True)
        ]
    )
    texts = list(map(_RECEIVED_AT, calls))
    # The calls of a request share one time text.
    received = [time_ms(texts[0])] * count if texts.count(texts[0]) == count else list(map(time_ms, texts))
    if UNUSUAL_TIME in received:
        table.unusual_times.update(
            (call_id, text) for call_id, text, ms in zip(ids, texts, received, strict=True) if ms == UNUSUAL_TIME
        )
    if message_keys is None:
        message_keys = [0 if text is None else hash(text) & KEY_MASK or 1 for text in map(_MESSAGE_ID, calls)]
    ends = list(accumulate(map(len, raws)))
    new = array("q", bytes(8 * width * count))
    for offset, column in (
        (table.ID, ids),
        (table.REQUEST, list(map(_REQUEST_ID, calls))),
        (table.SHAPE, shape_numbers),
        (table.RECEIVED, received),
        (table.MESSAGE, message_keys),
        (table.USER, _keys(map(_USER_ID, calls))),
        (table.ANONYMOUS, _keys(map(_ANONYMOUS_ID, calls))),
        (table.EVENT, _keys(map(_EVENT, calls))),
        (table.NAME, _keys(map(_NAME, calls))),
        (table.BLOB, [blob_number] * count),
        (table.SPAN, [start << 32 | end for start, end in zip(chain((0,), ends), ends, strict=False)]),
    ):
        new[offset::width] = array("q", column)
    rows.extend(new)
    violations = list(map(_VIOLATIONS, calls))
    if violations.count(()) != count:
        table.violations.update(compress(zip(ids, violations, strict=True), violations))
    resent = list(map(_DUPLICATE_OF, calls))
    if resent.count(None) != count:
        table.duplicate_of.update(
            (call_id, first_id) for call_id, first_id in zip(ids, resent, strict=True) if first_id is not None
        )
    return first


def count_columns(source: SourceStatus, calls: Sequence[Call]) -> None:
    """Count a batch's calls into their write key's source, as `Journal._add_run` does call by call."""
    count = len(calls)
    by_type = Counter(map(_TYPE, calls))
    accepted = list(map(_ACCEPTED, calls))
    source.calls += count
    source.duplicates += count - list(map(_DUPLICATE_OF, calls)).count(None)
    source.invalid += list(map(_VALID, calls)).count(False)
    accepted_calls = accepted.count(True)
    if accepted_calls:
        source.accepted += accepted_calls
        first, last = accepted.index(True), count - 1 - accepted[::-1].index(True)
        source.first_received_at = source.first_received_at or calls[first].received_at
        source.last_received_at = calls[last].received_at
    for call_type, typed in by_type.items():
        source.by_type[call_type] = source.by_type.get(call_type, 0) + typed


def _keys(texts: Iterable[str | None]) -> list[int]:
    """`text_key` of each text, in one list comprehension."""
    return [0 if text is None else hash(text) & KEY_MASK or 1 for text in texts]
