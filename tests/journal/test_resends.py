"""Resends: the messageId index answers "seen before?" and "attempts" without reading a call back."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.journal.journal import Call, Journal
from mockpipe.journal.packed import CallTable
from mockpipe.journal.partitions import entry, entry_accepted, entry_id, message_check
from tests.journal.test_journal import add, make_call, make_request

if TYPE_CHECKING:
    from pathlib import Path


def record(journal: Journal, key: str, *message_ids: str, accepted: bool = True) -> list[Call]:
    """One request of `key` with a call per messageId (in a batch when several)."""
    request = make_request(journal, key, accepted=accepted)
    calls = [
        make_call(journal, request, message_id=message_id)._replace(accepted=accepted) for message_id in message_ids
    ]
    request = request._replace(call_ids=tuple(call.id for call in calls))
    return journal.record(request, calls)[1]


def test_an_index_entry_holds_the_id_the_check_and_the_verdict() -> None:
    for call_id in (1, 2**39 - 1, 2**45):  # past 2**39 the entry is a larger int, still right
        for accepted in (True, False):
            found = entry(call_id, message_check("m-1"), accepted)
            assert (entry_id(found), entry_accepted(found)) == (call_id, accepted)
    assert message_check("m-1") == message_check("m-" + "1")
    assert len({message_check(f"m-{i}") for i in range(100)}) > 90  # a fingerprint, not a constant
    assert message_check(None) == 0


def test_a_resend_is_not_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal()
    first = add(journal, message_id="same")

    def no_reading(table: CallTable, index: int) -> Call:
        raise AssertionError("a call was read back to decide a resend")

    monkeypatch.setattr(CallTable, "call", no_reading)
    again = add(journal, message_id="same")
    batch = record(journal, "k1", "same", "new", "new")
    assert again.duplicate_of == first.id
    assert [call.duplicate_of for call in batch] == [first.id, None, batch[1].id]
    monkeypatch.undo()
    assert journal.attempts(first.id) == 3
    assert journal.attempts(batch[1].id) == 2


def test_the_same_message_id_with_another_body_is_still_a_resend_of_the_first() -> None:
    journal = Journal()
    first = add(journal, message_id="same", event="Signed Up", user_id="u1")
    other = add(journal, message_id="same", event="Order Completed", user_id="u2")
    assert other.duplicate_of == first.id
    assert journal.attempts(first.id) == 2
    assert [call.event for call in journal.calls()] == ["Signed Up"]  # the first copy stands for the call
    kept = journal.calls(duplicates=True)
    assert [orjson.loads(call.raw)["event"] for call in kept] == ["Signed Up", "Order Completed"]  # each body kept
    assert journal.source("k1").duplicates == 1


def test_a_message_id_is_resent_only_within_its_write_key() -> None:
    journal = Journal()
    in_k1 = add(journal, "k1", message_id="same")
    in_k2 = add(journal, "k2", message_id="same")
    assert in_k2.duplicate_of is None
    assert add(journal, "k2", message_id="same").duplicate_of == in_k2.id
    assert add(journal, "k1", message_id="same").duplicate_of == in_k1.id
    assert journal.attempts(in_k1.id) == journal.attempts(in_k2.id) == 2
    assert journal.clear("k1") == 2
    assert add(journal, "k1", message_id="same").duplicate_of is None  # k1 forgot it, k2 did not
    assert add(journal, "k2", message_id="same").duplicate_of == in_k2.id


def test_resends_in_batches_point_at_each_first_copy() -> None:
    journal = Journal()
    first = record(journal, "k1", "a", "b", "c")
    again = record(journal, "k1", "c", "b", "a", "d", "d")  # the whole batch again, reordered, and a repeat inside
    assert [call.duplicate_of for call in again] == [first[2].id, first[1].id, first[0].id, None, again[3].id]
    assert [journal.attempts(call.id) for call in first] == [2, 2, 2]
    assert journal.attempts(again[3].id) == 2
    assert [call.message_id for call in journal.calls()] == ["a", "b", "c", "d"]


def test_a_first_copy_turned_down_gives_way_to_the_first_accepted_one() -> None:
    journal = Journal()
    [refused] = record(journal, "k1", "m", accepted=False)
    [accepted] = record(journal, "k1", "m")
    [resent] = record(journal, "k1", "m")
    [refused_again] = record(journal, "k1", "m", accepted=False)
    assert accepted.duplicate_of is None
    assert resent.duplicate_of == refused_again.duplicate_of == accepted.id
    assert journal.attempts(accepted.id) == 3
    assert journal.attempts(refused.id) == 1


def test_when_the_bound_drops_a_first_copy_its_next_copy_is_a_call_of_its_own() -> None:
    journal = Journal(max_calls=3)
    first = add(journal, message_id="m")
    resent = add(journal, message_id="m")
    assert resent.duplicate_of == first.id
    add(journal, message_id="x")
    add(journal, message_id="y")  # drops the first copy; its resend stays, pointing at it
    assert [call.message_id for call in journal.calls(duplicates=True)] == ["m", "x", "y"]
    assert journal.calls(duplicates=True)[0] == resent
    assert journal.attempts(first.id) == 1  # forgotten with it
    anew = add(journal, message_id="m")  # drops the resend
    assert anew.duplicate_of is None
    assert add(journal, message_id="m").duplicate_of == anew.id
    assert journal.attempts(anew.id) == 2


def test_dropping_a_turned_down_copy_keeps_the_accepted_one_indexed() -> None:
    journal = Journal(max_calls=4)
    [refused] = record(journal, "k1", "m", accepted=False)
    [accepted] = record(journal, "k1", "m")
    add(journal, message_id="x")
    add(journal, message_id="y")
    resent = add(journal, message_id="m")  # drops the refused copy first, no longer the one the index holds
    assert refused.id not in [call.id for call in journal.calls(duplicates=True)]
    assert resent.duplicate_of == accepted.id


def test_a_restored_journal_knows_its_first_copies_and_attempts() -> None:
    source = Journal()
    first = record(source, "k1", "a", "b")
    record(source, "k1", "a")
    [refused] = record(source, "k2", "c", accepted=False)
    [accepted] = record(source, "k2", "c")
    journal = Journal()
    journal.restore(source.requests(), source.calls(duplicates=True))
    assert journal.attempts(first[0].id) == 2
    assert record(journal, "k1", "a")[0].duplicate_of == first[0].id
    assert record(journal, "k1", "b")[0].duplicate_of == first[1].id
    assert record(journal, "k2", "c")[0].duplicate_of == accepted.id != refused.id
    assert journal.attempts(first[0].id) == 3
    assert record(journal, "k1", "new")[0].duplicate_of is None


def test_a_resend_after_a_restart_on_a_store(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    headers = {"Authorization": "Basic " + base64.b64encode(b"k1:").decode()}
    body = orjson.dumps({"userId": "u1", "event": "Signed Up", "messageId": "m1"})
    with httpx.Client(timeout=10) as http:
        with MockPipeServer(store=path) as server:
            assert http.post(server.url_for("/v1/track"), content=body, headers=headers).status_code == 200
            [first] = server.calls()
        with MockPipeServer(store=path) as server:
            assert http.post(server.url_for("/v1/track"), content=body, headers=headers).status_code == 200
            [kept, resent] = server.calls(duplicates=True)
            assert (kept.id, resent.duplicate_of) == (first.id, first.id)
            assert server.journal.attempts(first.id) == 2
