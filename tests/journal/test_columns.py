"""A batch's calls are recorded a column at a time (`CallTable._append_columns`,
`Journal._record_fresh_batch`, the counts of a run): the journal it makes is the one the call-by-call
way makes, row for row, whatever the batch holds."""

from __future__ import annotations

import base64
import threading
from typing import Any

import orjson
import pytest

from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.ingest import Ingest
from mockpipe.journal import journal as journal_module
from mockpipe.journal.journal import Journal
from mockpipe.journal.queries import CallQuery

KEY = "wk_columns"
HEADERS = {b"authorization": b"Basic " + base64.b64encode(KEY.encode() + b":")}


def _item(number: int, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "track",
        "userId": f"u{number % 7}",
        "event": "Column Checked",
        "messageId": f"m-{number}",
        "timestamp": "2026-12-04T10:00:00.000Z",
        "properties": {"n": number},
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not None}


def _batches() -> list[list[dict[str, Any]]]:
    return [
        [_item(n) for n in range(20)],  # fresh: the columns
        [_item(n) for n in range(20)],  # every call a resend
        [_item(n) for n in range(20, 40)] + [_item(25)],  # a messageId twice in one batch
        [_item(n, userId=None if n % 2 else "u", anonymousId="a") for n in range(40, 60)],
        [_item(n, event=None) if n % 3 == 0 else _item(n) for n in range(60, 80)],  # invalid ones among them
        [_item(n, type="identify", event=None, traits={"email": "x@example.com"}) for n in range(80, 90)],
        [_item(n, type="page", event=None, name=f"Page {n}") for n in range(90, 100)],
        [_item(n, messageId=None) for n in range(100, 110)],  # messageIds generated
        [_item(n) for n in range(110, 113)],  # short: call by call in either way
        [_item(n, type="screen", event=None, name="Home") for n in range(113, 140)] + [_item(5)],  # one resend
    ]


def _filled(monkeypatch: pytest.MonkeyPatch, columns_from: int, max_calls: int | None) -> Journal:
    with monkeypatch.context() as patched:
        patched.setattr(journal_module, "COLUMNS_FROM", columns_from)
        journal = Journal(max_calls=max_calls)
        ingest = Ingest(ServerConfig(), journal)
        # The same arrival time for both journals: the ids generated for missing messageIds come from it.
        for number, batch in enumerate(_batches()):
            body = orjson.dumps({"batch": batch, "sentAt": "2026-12-04T10:00:01.000Z"})
            ingest.handle("POST", "/v1/batch", HEADERS, body, False, arrived=1_780_000_000.0 + number)
        return journal


@pytest.mark.parametrize("max_calls", [None, 50])
def test_columns_make_the_journal_the_call_by_call_way_makes(
    monkeypatch: pytest.MonkeyPatch, max_calls: int | None
) -> None:
    by_call = _filled(monkeypatch, 10**9, max_calls)
    by_column = _filled(monkeypatch, 8, max_calls)
    assert by_column._calls.rows == by_call._calls.rows
    assert by_column._calls.blobs == by_call._calls.blobs
    assert by_column._calls.violations == by_call._calls.violations
    assert by_column._calls.duplicate_of == by_call._calls.duplicate_of
    assert by_column._calls.shapes == by_call._calls.shapes
    assert by_column._attempts == by_call._attempts
    assert by_column.source(KEY) == by_call.source(KEY)
    everything = CallQuery(duplicates=True)
    assert by_column.calls(everything) == by_call.calls(everything)
    assert by_column.count(valid=False) == by_call.count(valid=False)
    assert by_column.count(everything) == by_call.count(everything)
    if max_calls is None:  # every kind of call is still there to compare
        assert by_column.count(valid=False) > 0
        assert by_column.count(everything) > by_column.count() > 0  # resends were marked in both


def test_a_fresh_batch_is_indexed_for_the_resends_that_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    journal = _filled(monkeypatch, 8, None)
    first = journal.calls(message_id="m-3", duplicates=True)
    assert [call.duplicate_of for call in first] == [None, first[0].id]
    assert journal.attempts(first[0].id) == 2


def test_listeners_of_a_batch_recorded_by_columns_may_use_the_journal() -> None:
    # They are told after the journal's lock is let go, as for any request: a forwarder annotates the
    # calls it is told of, a user's listener may read the journal. Held, this would never end.
    journal = Journal()
    ingest = Ingest(ServerConfig(), journal)
    seen: list[int] = []

    def listener(request: Any, calls: list[Any]) -> None:
        journal.annotate(calls[0].id, "forward", {"status": "queued"})
        seen.append(journal.source(KEY).calls)

    journal.subscribe(listener)
    body = orjson.dumps({"batch": [_item(n) for n in range(12)]})
    worker = threading.Thread(target=ingest.handle, args=("POST", "/v1/batch", HEADERS, body, False), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the listener waited for the journal's lock"
    assert seen == [12]
