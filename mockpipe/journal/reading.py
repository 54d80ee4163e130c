"""Reading the journal: the calls and requests a query matches, at once or as they arrive (waits).

`JournalReads` is the reading half of `mockpipe.journal.journal.Journal`, which holds the state both
halves use (the tables, the partitions, the lock); it is not used on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockpipe.journal.packed import REQUEST_ACCEPTED, REQUEST_STATUS, REQUEST_WRITE_KEY
from mockpipe.journal.partitions import SourceStatus
from mockpipe.journal.queries import CallQuery, RequestQuery, call_query, row_filter
from mockpipe.journal.waits import DEFAULT_WAIT_TIMEOUT, WaitProgress

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable, Iterator

    from mockpipe.journal.packed import CallTable, RequestTable
    from mockpipe.journal.partitions import Partition
    from mockpipe.journal.queries import WaitResult
    from mockpipe.journal.records import Call, RequestRecord
    from mockpipe.journal.waits import Waiters
    from mockpipe.types import JSONObject


class JournalReads:
    """Queries and waits over a journal's state (see `Journal`)."""

    _lock: threading.Lock
    _calls: CallTable
    _requests: RequestTable
    _partitions: dict[str, Partition]
    _attempts: dict[int, int]
    _waiters: Waiters
    _clears: int

    # -- reading -------------------------------------------------------------------------------

    def records(self, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The calls matching `query` (or keyword filters: `type="track", user_id="u1"`), oldest first.

        Each call read back carries the parse of its JSON made to index it: its first `payload`
        (and so `to_dict()`) costs no second parse."""
        query = call_query(query, filters)
        with self._lock:
            return self._matching(self._oldest_first(query.write_key, query.after), query, query.limit)

    calls = records  # the older name, kept: the same method

    def payloads(self, query: CallQuery | None = None, /, **filters: Any) -> list[JSONObject]:
        """The enriched payloads of the calls `records` returns for the same filters (each JSON parsed once)."""
        return [call.payload for call in self.records(query, **filters)]

    def latest_calls(self, count: int, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The newest `count` calls matching `query` (or keyword filters), oldest first."""
        query = call_query(query, filters)
        with self._lock:
            return self._matching(self._newest_first(query.write_key), query, count)[::-1]

    def _oldest_first(self, write_key: str | None, after: int | None = None) -> Iterable[int]:
        """Physical indexes in the call table of every call, or of one key's calls, oldest first;
        with `after`, from the first call with a larger id (ids grow along the table)."""
        table = self._calls
        if not table.in_order:  # ids do not grow along the rows: look at every row (`row_filter` checks `after`)
            after = None
        if write_key is None:
            return range(table.first_after(after) if after is not None else table.head, table.stop)
        partition = self._partitions.get(write_key)
        return () if partition is None else partition.oldest_first(table, after)

    def _newest_first(self, write_key: str | None) -> Iterable[int]:
        """`_oldest_first` from the other end, lazily: waits look only at the newest calls."""
        table = self._calls
        if write_key is None:
            return range(table.stop - 1, table.head - 1, -1)
        partition = self._partitions.get(write_key)
        return () if partition is None else partition.newest_first(table)

    def _matching(self, indexes: Iterable[int], query: CallQuery, limit: int | None) -> list[Call]:
        """The calls at `indexes` that match, up to `limit` (the lock is held)."""
        found: list[Call] = []
        if limit == 0:
            return found
        candidate, read = row_filter(query, self._calls), self._calls.call
        for index in indexes:
            if candidate(index):
                call = read(index)
                if query.matches(call):  # confirms what the row's keys only suggest
                    found.append(call)
                    if len(found) == limit:
                        break
        return found

    def call(self, call_id: int) -> Call | None:
        with self._lock:
            index = self._calls.index_of(call_id)
            return None if index is None else self._calls.call(index)

    def attempts(self, call_id: int) -> int:
        """How many copies of this call arrived (1 unless the SDK resent its messageId), counting the
        attempts an injected fault answered."""
        return self._attempts.get(call_id, 1)

    def requests(self, query: RequestQuery | None = None) -> list[RequestRecord]:
        query = query or RequestQuery()
        wanted = [
            (position, value)
            for position, value in (
                (REQUEST_WRITE_KEY, query.write_key),
                (REQUEST_STATUS, query.status),
                (REQUEST_ACCEPTED, query.accepted),
            )
            if value is not None
        ]
        found: list[RequestRecord] = []
        with self._lock:
            table = self._requests
            for index in range(table.head, table.stop):
                if query.after is not None and table.field(index, table.ID) <= query.after:
                    continue
                shape = table.shape(index)
                if all(shape[position] == value for position, value in wanted):
                    found.append(table.request(index))
                    if len(found) == query.limit:
                        break
        return found

    def request(self, request_id: int) -> RequestRecord | None:
        with self._lock:
            index = self._requests.index_of(request_id)
            return None if index is None else self._requests.request(index)

    def source(self, write_key: str) -> SourceStatus:
        """The test-connection status of a write key (a copy, safe to keep)."""
        with self._lock:
            partition = self._partitions.get(write_key)
            return SourceStatus(write_key) if partition is None else partition.source_copy()

    def write_keys(self) -> list[str]:
        with self._lock:
            return list(self._partitions)

    def __len__(self) -> int:
        return len(self._calls)

    @property
    def ids_in_order(self) -> bool:
        """Whether call ids grow in the order calls were recorded (false once some were restored out
        of order): `after` then pages through the calls."""
        return self._calls.in_order

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls(CallQuery(duplicates=True)))

    # -- waiting -------------------------------------------------------------------------------

    @property
    def pending_waits(self) -> int:
        """How many asynchronous waits (long-polls) are in progress."""
        return self._waiters.pending_async

    def release_waiters(self) -> None:
        """End every pending asynchronous wait now, with what there is (the server is stopping)."""
        with self._lock:
            self._waiters.release()

    def wait_for(
        self,
        count: int = 1,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        query: CallQuery | None = None,
        **filters: Any,
    ) -> WaitResult:
        """Block until `count` calls match, or `timeout` seconds pass; never raises on time-out.
        A `limit` in the query bounds the calls returned, not the count waited for."""
        progress = WaitProgress(call_query(query, filters))
        self._waiters.wait(lambda: self._gather(progress) >= count, timeout)
        return progress.result(count)

    async def wait_for_async(
        self,
        count: int = 1,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        query: CallQuery | None = None,
        **filters: Any,
    ) -> WaitResult:
        """`wait_for` for an event loop: suspends instead of blocking the thread."""
        progress = WaitProgress(call_query(query, filters))
        await self._waiters.wait_async(lambda: self._gather(progress) >= count, timeout)
        return progress.result(count)

    def _gather(self, progress: WaitProgress) -> int:
        """Add to `progress` the matching calls recorded since it last looked (the lock is held);
        returns how many it has found in all.

        Only the new calls are examined, so a pending wait costs little per recorded request."""
        if progress.clears != self._clears:  # the journal was cleared meanwhile: start over
            progress.found.clear()
            progress.seen_up_to = 0
            progress.clears = self._clears
        table = self._calls
        new: list[int] = []
        for index in self._newest_first(progress.query.write_key):  # ids grow: stop at the first one seen
            call_id = table.field(index, table.ID)
            if call_id <= progress.seen_up_to:
                break
            new.append(index)
        if new:
            progress.seen_up_to = max(progress.seen_up_to, table.field(new[0], table.ID))
        progress.found.extend(self._matching(reversed(new), progress.query, None))
        return len(progress.found)
