"""Following the journal in bulk: the accepted first copies of calls after an id, as their stored JSON
and the few fields that need no parse, for a reader that builds its own state from every call (the
people model).

`Journal.calls` reads each call back whole: it parses its JSON to fill the `Call`'s index fields and
to confirm the row's hashed keys, and builds the record. A follower that parses the JSON again in
its own way pays all of that for nothing: after a burst of 100,000 calls it was two thirds of the
people model's first read. Here each call is a plain tuple cut from its row, with its JSON unparsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockpipe.journal.packed import CALL_ACCEPTED, CALL_TYPE, CALL_WRITE_KEY
from mockpipe.spec.times import UNUSUAL_TIME, time_text

if TYPE_CHECKING:
    from mockpipe.journal.journal import Journal

# (id, write key, type, received at, JSON): what a follower needs to know of a call before parsing it.
# The time it was received is the journal's milliseconds (`received_text` makes the text of them), or
# the text itself when the journal kept it as sent: most followers never need it, and a text per call
# cost more than the rest of the row (single calls each have a time of their own).
RawCall = tuple[int, str, str, int | str, bytes]


def accepted_after(journal: Journal, after: int, limit: int | None = None) -> tuple[list[RawCall], bool]:
    """The accepted calls with an id above `after` that are no resends, oldest first, at most `limit`
    of them; and whether `limit` cut the list short (more may follow).

    While ids grow along the journal (`ids_in_order`, which also brings the journal up to date), the
    search starts at the first id above `after`; otherwise (calls restored out of order) every row is
    looked at, in the journal's order, and `limit` is ignored, as `Journal.calls` does with `after`.
    """
    in_order = journal.ids_in_order  # read first: a journal with a backlog processes it here
    if not in_order:
        limit = None
    found: list[RawCall] = []
    if limit is not None and limit <= 0:
        return found, False
    with journal._lock:  # the same lock as the journal's own reads; rows only, no parse
        table = journal._calls
        rows, width, duplicates, shapes, blobs = table.rows, table.WIDTH, table.duplicate_of, table.shapes, table.blobs
        blob_base, unusual = table.blob_base, table.unusual_times
        shape_at, span_at, blob_at, received_at = table.SHAPE, table.SPAN, table.BLOB, table.RECEIVED
        index, stop = (table.first_after(after) if in_order else table.head), table.stop
        while index < stop:
            end = stop if limit is None else min(stop, index + limit - len(found))
            first, last = index * width, end * width
            # The fields wanted, each as one strided slice of the rows (a loop in C), walked together.
            for call_id, number, ms, blob_number, span in zip(
                rows[first:last:width],
                rows[first + shape_at : last : width],
                rows[first + received_at : last : width],
                rows[first + blob_at : last : width],
                rows[first + span_at : last : width],
                strict=True,
            ):
                if call_id <= after or call_id in duplicates:
                    continue
                shape = shapes[number] if number >= 0 else table._own_shapes[call_id]  # `table.shape`, inline
                if not shape[CALL_ACCEPTED]:
                    continue
                blob = blobs[blob_number - blob_base]
                assert blob is not None  # a live row's blob is kept
                found.append(
                    (
                        call_id,
                        shape[CALL_WRITE_KEY],
                        shape[CALL_TYPE],
                        unusual[call_id] if ms == UNUSUAL_TIME else ms,
                        blob[span >> 32 : span & 0xFFFF_FFFF],
                    )
                )
            index = end
            if len(found) == limit:
                return found, index < stop
    return found, False


def received_text(received: int | str) -> str:
    """The received-at text of a `RawCall`'s time."""
    return received if isinstance(received, str) else time_text(received)
