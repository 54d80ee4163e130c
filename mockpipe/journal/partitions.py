"""The journal's partitions: the calls of one write key, the index of their messageIds (to find the
first copy of a resent call), and the key's test-connection counts (`SourceStatus`).

The messageId index answers "seen before?" without reading a call back: each first call has an
entry (`entry`) holding its id, whether it was accepted, and a second fingerprint of its messageId
(`message_check`), independent of the 60-bit key it is filed under. Same key and same check: a
resend (two different messageIds pass for one with a chance of 2**-80 per pair, in one write key).
Same key, another check: surely another messageId, looked up by its text in `collisions`.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockpipe.journal.packed import text_key

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mockpipe.journal.packed import CallTable
    from mockpipe.types import JSONObject

# An index entry: first call id << ID_SHIFT | check << 1 | accepted. Below 2**60 (a 32-byte int) while
# call ids stay below 2**39; past that, a larger int, still right.
CHECK_BITS = 20
CHECK_MASK = (1 << CHECK_BITS) - 1
ID_SHIFT = CHECK_BITS + 1


def message_check(message_id: str | None) -> int:
    """The second fingerprint of a messageId: its salted hash, independent of `text_key`'s."""
    return 0 if message_id is None else hash("\x00" + message_id) & CHECK_MASK


def entry(call_id: int, check: int, accepted: bool) -> int:
    """The index entry of the first call of a messageId."""
    return call_id << ID_SHIFT | check << 1 | accepted


def entry_id(found: int) -> int:
    return found >> ID_SHIFT


def entry_accepted(found: int) -> bool:
    return bool(found & 1)


@dataclass(slots=True)
class SourceStatus:
    """The seed's "test connection" for one write key: connected once a call has been accepted."""

    write_key: str
    first_received_at: str | None = None
    last_received_at: str | None = None
    calls: int = 0
    accepted: int = 0
    invalid: int = 0
    duplicates: int = 0
    requests: int = 0
    rejected_requests: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def connected(self) -> bool:
        return self.accepted > 0

    def to_dict(self) -> JSONObject:
        return {
            "writeKey": self.write_key,
            "connected": self.connected,
            "firstReceivedAt": self.first_received_at,
            "lastReceivedAt": self.last_received_at,
            "calls": self.calls,
            "accepted": self.accepted,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "requests": self.requests,
            "rejectedRequests": self.rejected_requests,
            "byType": dict(self.by_type),
        }


class Partition:
    """The calls of one write key (their sequence numbers in the call table, oldest first), and the
    first call seen for each of its messageIds."""

    __slots__ = ("collisions", "failed_attempts", "first_by_message", "head", "rows", "source")

    def __init__(self, write_key: str) -> None:
        self.rows = array("q")
        self.head = 0  # rows before it are gone (dropped by a bound); trimmed lazily
        self.first_by_message: dict[int, int] = {}  # text_key(messageId) -> entry of the first call with it
        self.collisions: dict[str, int] = {}  # messageId -> entry of its first call, where another has its key
        self.failed_attempts: dict[str, int] = {}  # messageId -> attempts a fault answered, call not seen yet
        self.source = SourceStatus(write_key)

    def __len__(self) -> int:
        return len(self.rows) - self.head

    def drop_first(self, sequence: int) -> None:
        if self.head < len(self.rows) and self.rows[self.head] == sequence:
            self.head += 1
            if self.head >= 256 and self.head * 8 >= len(self.rows):
                del self.rows[: self.head]
                self.head = 0
        else:  # not reached while sequence numbers grow in order, kept for safety
            self.rows.remove(sequence)

    def forget_message(self, message_key: int, call_id: int) -> None:
        """Drop the messageId index entry of a call that is going away."""
        found = self.first_by_message.get(message_key)
        if found is not None and found >> ID_SHIFT == call_id:
            del self.first_by_message[message_key]
            for message_id in self.collisions:  # another messageId with this key takes it
                if text_key(message_id) == message_key:
                    self.first_by_message[message_key] = self.collisions.pop(message_id)
                    break
        elif self.collisions:
            for message_id, held in list(self.collisions.items()):
                if held >> ID_SHIFT == call_id:
                    del self.collisions[message_id]

    def first_entry(self, message_id: str, message_key: int, check: int) -> int | None:
        """The index entry of the first call of this key with this messageId (see `entry`), or None."""
        found = self.first_by_message.get(message_key)
        if found is None:
            return None
        if (found >> 1) & CHECK_MASK == check:
            return found
        return self.collisions.get(message_id) if self.collisions else None  # another messageId has the key

    def index_message(self, message_id: str, message_key: int, found: int) -> None:
        """Make the call of index entry `found` the first of its messageId."""
        holder = self.first_by_message.get(message_key)
        if holder is None or (holder >> 1) & CHECK_MASK == (found >> 1) & CHECK_MASK:
            self.first_by_message[message_key] = found
        else:
            self.collisions[message_id] = found

    def oldest_first(self, table: CallTable, after: int | None) -> Iterator[int]:
        """Physical indexes in `table` of this key's calls, oldest first; with `after`, from the first
        call with a larger id."""
        base, rows, start = table.base, self.rows, self.head
        if after is not None:
            start = (
                bisect.bisect_right(
                    range(start, len(rows)), after, key=lambda position: table.field(rows[position] - base, table.ID)
                )
                + start
            )
        return (sequence - base for sequence in rows[start:])

    def newest_first(self, table: CallTable) -> Iterator[int]:
        """`oldest_first` from the other end, lazily."""
        rows, base = self.rows, table.base
        for position in range(len(rows) - 1, self.head - 1, -1):
            yield rows[position] - base

    def source_copy(self) -> SourceStatus:
        """The source status, a copy safe to keep."""
        status = self.source
        return SourceStatus(
            **{name: getattr(status, name) for name in SourceStatus.__dataclass_fields__}
            | {"by_type": dict(status.by_type)}
        )
