"""`Journal.count` (the `total` of a page) and long-polls that keep a page, not every match."""

from __future__ import annotations

import asyncio

from mockpipe.journal.journal import CallQuery, Journal, RequestQuery
from mockpipe.journal.reading import GATHER_SLICE
from tests.journal.test_journal import make_call, make_request


def _fill(journal: Journal, calls: int, key: str = "k1") -> None:
    request = make_request(journal, key)
    journal.record(request, [make_call(journal, request, user_id=f"u{n % 2}", event=f"E{n % 5}") for n in range(calls)])


def test_count_is_the_whole_match_whatever_the_paging() -> None:
    journal = Journal()
    _fill(journal, 1000)
    _fill(journal, 10, key="k2")
    assert journal.count() == 1010 and journal.count(write_key="k2") == 10
    assert journal.count(user_id="u1") == 505 and journal.count(user_id="u1", event="E1") == 101
    assert journal.count(CallQuery(user_id="u1", after=10**9, limit=3)) == 505  # paging aside
    assert journal.count(user_id="nobody") == 0
    assert journal.count_requests() == 2 and journal.count_requests(RequestQuery(write_key="k2", after=10**9)) == 1


def test_a_kept_count_follows_new_calls_clears_and_drops() -> None:
    journal = Journal(max_calls=150)
    _fill(journal, 100)
    assert journal.count(user_id="u0") == 50
    _fill(journal, 10)
    assert journal.count(user_id="u0") == 55  # the ten new calls counted onto the kept count
    _fill(journal, 100)  # 60 of the oldest dropped
    assert journal.count(user_id="u0") == len(journal.calls(user_id="u0")) == 75
    journal.clear("k1")
    assert journal.count(user_id="u0") == 0 and journal.count() == 0


def test_a_wait_with_a_limit_keeps_a_page_and_counts_the_rest() -> None:
    journal = Journal()
    _fill(journal, 10_000)
    result = journal.wait_for(10**9, 0, CallQuery(limit=10))
    assert result.timed_out and [call.event for call in result.calls] == [f"E{n % 5}" for n in range(10)]
    enough = journal.wait_for(7_000, 0, CallQuery(limit=10, user_id="u1"))
    assert enough.timed_out and len(enough.calls) == 10  # 5,000 of u1 only
    assert not journal.wait_for(5_000, 0, CallQuery(limit=10, user_id="u1")).timed_out
    assert len(journal.wait_for(3, 0).calls) == 10_000  # no limit: every match, as before


def test_an_async_wait_looks_at_a_long_journal_a_slice_at_a_time() -> None:
    journal = Journal()
    _fill(journal, 20_000)
    turns = 0

    async def main() -> tuple[bool, int]:
        nonlocal turns

        async def count_turns() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        counter = asyncio.create_task(count_turns())
        result = await journal.wait_for_async(10**9, 0, CallQuery(limit=5, user_id="u1"))
        counter.cancel()
        return result.timed_out, len(result.calls)

    # Every call looked at before the time-out of 0 s is honoured; the loop ran others meanwhile.
    assert asyncio.run(main()) == (True, 5)
    assert turns >= 20_000 // GATHER_SLICE


def test_a_plain_wait_counts_the_calls_past_its_page_in_bulk() -> None:
    journal = Journal()
    _fill(journal, 3000)
    _fill(journal, 500, key="k2")
    first = journal.calls(write_key="k1")[0]
    resend = make_call(journal, make_request(journal), message_id=str(first.message_id))
    journal.record(make_request(journal), [resend])  # a duplicate of k1's first call
    for key, calls in (("k1", 3000), ("k2", 500), (None, 3500)):
        query = CallQuery(write_key=key, limit=10)
        assert not journal.wait_for(calls, 0, query).timed_out, key
        assert journal.wait_for(calls + 1, 0, query).timed_out, key
        with_resends = CallQuery(write_key=key, limit=10, duplicates=True)
        assert journal.wait_for(calls + (key != "k2"), 0, with_resends).timed_out is False, key
    after = journal.calls(write_key="k1")[99].id
    assert not journal.wait_for(2900, 0, CallQuery(write_key="k1", after=after, limit=10)).timed_out
    assert journal.wait_for(2901, 0, CallQuery(write_key="k1", after=after, limit=10)).timed_out
