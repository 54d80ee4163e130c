"""How many calls or requests a query matches in all (the `total` of a page of the inspection API),
counted from the packed rows without reading the records, and kept per query: the next page, or the
next look of a client that follows the journal, counts only the rows added since."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable


class MatchCounts:
    """Counts by query of one journal (used with the journal's lock held).

    A count is kept with the journal's state when it was made (its clears, and where its rows start);
    rows are only ever added at the end while that state holds, so a kept count is brought up to
    date by counting the rows after the ones it covered. Anything else (a clear, dropped calls) counts
    again from the start."""

    KEPT = 64  # queries remembered; the oldest goes first

    def __init__(self) -> None:
        self._kept: dict[Hashable, tuple[Hashable, int, int]] = {}  # query -> (state, rows covered up to, count)

    def count(
        self, query: Hashable, state: Hashable, start: int, stop: int, count_rows: Callable[[int, int], int]
    ) -> int:
        """The matches among physical rows `start` to `stop`; `count_rows(first, stop)` counts a range."""
        kept = self._kept.pop(query, None)
        if kept is not None and kept[0] == state and start <= kept[1] <= stop:
            total = kept[2] + count_rows(kept[1], stop)
        else:
            total = count_rows(start, stop)
        self._kept[query] = (state, stop, total)
        if len(self._kept) > self.KEPT:
            del self._kept[next(iter(self._kept))]
        return total

    def clear(self) -> None:
        self._kept.clear()
