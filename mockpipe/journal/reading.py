"""Reading the journal: the calls and requests a query matches, at once or as they arrive (waits).

`JournalReads` is the reading half of `mockpipe.journal.journal.Journal`, which holds the state both
halves use (the tables, the partitions, the lock); it is not used on its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mockpipe.journal.packed import CALL_WRITE_KEY, REQUEST_ACCEPTED, REQUEST_STATUS, REQUEST_WRITE_KEY
from mockpipe.journal.partitions import SourceStatus
from mockpipe.journal.queries import CallQuery, RequestQuery, call_query, row_filter, rows_decide
from mockpipe.journal.waits import DEFAULT_WAIT_TIMEOUT, WaitProgress

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable, Iterator

    from mockpipe.journal.backlog import Backlog
    from mockpipe.journal.counting import MatchCounts
    from mockpipe.journal.packed import CallTable, RequestTable
    from mockpipe.journal.partitions import Partition
    from mockpipe.journal.queries import WaitResult
    from mockpipe.journal.records import Call, RequestRecord
    from mockpipe.journal.waits import Waiters
    from mockpipe.types import JSONObject


GATHER_SLICE = 1024  # rows a long-poll looks at before letting the event loop serve others
READ_COST = 16  # a call read back costs as much as this many rows looked at


def _request_shape_filter(query: RequestQuery) -> list[tuple[int, Any]]:
    """(position in a request row's shape, value wanted) of each filter of `query`."""
    return [
        (position, value)
        for position, value in (
            (REQUEST_WRITE_KEY, query.write_key),
            (REQUEST_STATUS, query.status),
            (REQUEST_ACCEPTED, query.accepted),
        )
        if value is not None
    ]


def _plain(query: CallQuery) -> bool:
    """Whether a query filters on nothing but the write key (and duplicates, and paging)."""
    return replace(query, write_key=None, duplicates=False, after=None, limit=None) == CallQuery()


class JournalReads:
    """Queries and waits over a journal's state (see `Journal`).

    Every read first brings the journal up to date (`backlog.catch_up`): a request that was answered
    before it was processed is read as processed, so a test that got its 200 sees its calls."""

    _lock: threading.Lock
    backlog: Backlog
    _calls: CallTable
    _requests: RequestTable
    _partitions: dict[str, Partition]
    _attempts: dict[int, int]
    _waiters: Waiters
    _clears: int
    _counts: MatchCounts

    # -- reading -------------------------------------------------------------------------------

    def records(self, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The calls matching `query` (or keyword filters: `type="track", user_id="u1"`), oldest first.

        Each call read back carries the parse of its JSON made to index it: its first `payload`
        (and so `to_dict()`) costs no second parse."""
        self.backlog.catch_up()
        query = call_query(query, filters)
        with self._lock:
            return self._matching(self._oldest_first(query.write_key, query.after), query, query.limit)

    calls = records  # the older name, kept: the same method

    def payloads(self, query: CallQuery | None = None, /, **filters: Any) -> list[JSONObject]:
        """The enriched payloads of the calls `records` returns for the same filters (each JSON parsed once)."""
        return [call.payload for call in self.records(query, **filters)]

    def latest_calls(self, count: int, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The newest `count` calls matching `query` (or keyword filters), oldest first."""
        self.backlog.catch_up()
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
        self.backlog.catch_up()
        with self._lock:
            index = self._calls.index_of(call_id)
            return None if index is None else self._calls.call(index)

    def attempts(self, call_id: int) -> int:
        """How many copies of this call arrived (1 unless the SDK resent its messageId), counting the
        attempts an injected fault answered."""
        self.backlog.catch_up()
        return self._attempts.get(call_id, 1)

    def requests(self, query: RequestQuery | None = None) -> list[RequestRecord]:
        self.backlog.catch_up()
        query = query or RequestQuery()
        wanted = _request_shape_filter(query)
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
        self.backlog.catch_up()
        with self._lock:
            index = self._requests.index_of(request_id)
            return None if index is None else self._requests.request(index)

    def source(self, write_key: str) -> SourceStatus:
        """The test-connection status of a write key (a copy, safe to keep)."""
        self.backlog.catch_up()
        with self._lock:
            partition = self._partitions.get(write_key)
            return SourceStatus(write_key) if partition is None else partition.source_copy()

    def write_keys(self) -> list[str]:
        self.backlog.catch_up()
        with self._lock:
            return list(self._partitions)

    def __len__(self) -> int:
        self.backlog.catch_up()
        return len(self._calls)

    @property
    def ids_in_order(self) -> bool:
        """Whether call ids grow in the order calls were recorded (false once some were restored out
        of order): `after` then pages through the calls."""
        self.backlog.catch_up()
        return self._calls.in_order

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls(CallQuery(duplicates=True)))

    # -- waiting -------------------------------------------------------------------------------

    @property
    def pending_waits(self) -> int:
        """How many asynchronous waits (long-polls) are in progress."""
        return self._waiters.pending_async

    @property
    def releases(self) -> int:
        """How many times `release_waiters` ran: a wait that loops over `wait_for_async` stops when it changes."""
        return self._waiters.releases

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
        A `limit` in the query bounds the calls returned (and kept meanwhile), not the count waited for."""
        query = call_query(query, filters)
        progress = WaitProgress(query, query.limit)
        self._waiters.wait(lambda: self._gather(progress, count, None) and progress.matched >= count, timeout)
        return progress.result(count)

    async def wait_for_async(
        self,
        count: int = 1,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        query: CallQuery | None = None,
        **filters: Any,
    ) -> WaitResult:
        """`wait_for` for an event loop: suspends instead of blocking the thread, and looks at a long
        journal a slice at a time, so that the loop goes on serving meanwhile."""
        query = call_query(query, filters)
        progress = WaitProgress(query, query.limit)

        def look() -> tuple[bool, bool]:
            caught_up = self._gather(progress, count, GATHER_SLICE)
            return caught_up and progress.matched >= count, caught_up  # a page as full as the journal has

        await self._waiters.wait_async(look, timeout)
        return progress.result(count)

    def _gather(self, progress: WaitProgress, count: int, budget: int | None) -> bool:
        """Add to `progress` the matching calls recorded since it last looked, looking at `budget` rows
        at most (None: every new one), and no further once it has a full page and `count` have matched
        (the lock is held).
        Returns whether it has looked at every call there is (or has found all it needs).

        Only the new calls are examined, so a pending wait costs little per recorded request; the
        calls past the page are counted, not kept, and read only when their rows cannot decide."""
        if progress.clears != self._clears:  # the journal was cleared meanwhile: start over
            progress.start_over(self._clears)
        table = self._calls
        query = progress.query
        if not table.in_order:  # ids do not tell what was looked at: look at everything again
            progress.start_over(self._clears)
            budget = None
        elif progress.seen_up_to:
            query = replace(query, after=max(progress.seen_up_to, query.after or 0))
        candidate, read, decided = row_filter(query, table), table.call, rows_decide(query)
        plain = table.in_order and _plain(query)
        found, page = progress.found, progress.page
        # A call read costs as much as READ_COST rows looked at: a slice reads a few hundred at most.
        left = budget if budget is not None else -1
        last = -1
        for index in self._oldest_first(query.write_key, query.after):
            if left == 0:
                break  # the slice is used up before the end of the journal: not caught up
            left -= 1
            last = index
            if not candidate(index):
                continue
            if decided and page is not None and len(found) >= page:
                if plain:  # the rest is counted in bulk, without looking at each row
                    progress.matched += 1 + self._count_plain(query, table.field(index, table.ID))
                    left, last = -1, self._last_index(query.write_key, last)
                    break
                progress.matched += 1
            else:
                left = max(left - READ_COST, 0) if left > 0 else left
                call = read(index)
                if query.matches(call):  # confirms what the row's keys only suggest
                    progress.matched += 1
                    if page is None or len(found) < page:
                        found.append(call)
            if page is not None and len(found) >= page and progress.matched >= count:
                left = -1  # a full page, and the count waited for: the rest would only be counted
                break
        else:
            left = -1  # looked at every call there is
        if last >= 0:
            progress.seen_up_to = max(progress.seen_up_to, table.field(last, table.ID))
        return left != 0

    def _count_plain(self, query: CallQuery, after: int) -> int:
        """How many calls of a query that filters on nothing but the write key have an id above
        `after`, from where the rows start and the duplicates (ids grow along the rows; the lock is held)."""
        table = self._calls
        if query.write_key is None:
            rows = table.stop - table.first_after(after)
        else:
            partition = self._partitions.get(query.write_key)
            if partition is None:
                return 0
            rows = sum(1 for _ in partition.oldest_first(table, after))  # C-speed slice, counted
        if query.duplicates or not table.duplicate_of:
            return rows
        resent = 0
        for call_id in table.duplicate_of:
            if call_id > after and query.write_key is not None:
                index = table.index_of(call_id)
                resent += index is not None and table.shape(index)[CALL_WRITE_KEY] == query.write_key
            elif call_id > after:
                resent += 1
        return rows - resent

    def _last_index(self, write_key: str | None, default: int) -> int:
        """The physical index of the newest call (of a write key), or `default` when there is none."""
        for index in self._newest_first(write_key):
            return index
        return default

    # -- counting ------------------------------------------------------------------------------

    def count(self, query: CallQuery | None = None, /, **filters: Any) -> int:
        """How many calls match the filters of `query` (or keyword filters) in all, whatever its
        `after` and `limit`: the `total` of a page. Counted from the rows (a call is read only to
        confirm a text filter), and kept: counting again counts only the calls added since."""
        self.backlog.catch_up()
        query = replace(call_query(query, filters), after=None, limit=None)
        with self._lock:
            table = self._calls
            if query == CallQuery(duplicates=query.duplicates):  # no filter: no row to look at
                return len(table) if query.duplicates else len(table) - len(table.duplicate_of)
            candidate, read, decided = row_filter(query, table), table.call, rows_decide(query)

            def count_rows(start: int, stop: int) -> int:
                if decided:
                    return sum(1 for index in range(start, stop) if candidate(index))
                return sum(1 for index in range(start, stop) if candidate(index) and query.matches(read(index)))

            state = (self._clears, table.base, table.head)
            return self._counts.count(query, state, table.head, table.stop, count_rows)

    def count_requests(self, query: RequestQuery | None = None) -> int:
        """How many requests match the filters of `query` in all, whatever its `after` and `limit`."""
        self.backlog.catch_up()
        query = replace(query or RequestQuery(), after=None, limit=None)
        with self._lock:
            table = self._requests
            if query == RequestQuery():
                return len(table)
            wanted = _request_shape_filter(query)

            def count_rows(start: int, stop: int) -> int:
                shape = table.shape
                return sum(1 for index in range(start, stop) if all(shape(index)[at] == value for at, value in wanted))

            state = ("requests", self._clears, table.base, table.head)
            return self._counts.count(query, state, table.head, table.stop, count_rows)
