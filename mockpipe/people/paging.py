"""Paging of the people and object lists: a page, and the cut of one page from rows in creation order."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DEFAULT_PAGE_SIZE = 100  # people or objects per page of `People.people_page` and the HTTP lists
MAX_PAGE_SIZE = 1000
_T = TypeVar("_T")


class Page(NamedTuple, Generic[_T]):
    """One page of a list: its items, the cursor of the next page (pass it as `after`; None on the
    last page) and how many items the whole list holds."""

    items: list[_T]
    next: int | None
    total: int


def cut_page(
    rows: Iterator[_T], after: int | None, limit: int, seq: Callable[[_T], int]
) -> tuple[list[_T], int | None]:
    """The `limit` rows after the cursor `after`, and the cursor of the next page (None: no more).

    A limit above `MAX_PAGE_SIZE` is capped to it (the cursor leads on), as in `/mockpipe/calls`.
    Raises `ValueError` for a limit below 1 or a negative cursor."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an integer from 1 (at most {MAX_PAGE_SIZE} are given), not {limit!r}")
    limit = min(limit, MAX_PAGE_SIZE)
    if after is not None:
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"after must be a cursor (the next of the previous page), not {after!r}")
        rows = itertools.dropwhile(lambda row: seq(row) <= after, rows)
    page = list(itertools.islice(rows, limit + 1))
    if len(page) > limit:
        return page[:limit], seq(page[limit - 1])
    return page, None
