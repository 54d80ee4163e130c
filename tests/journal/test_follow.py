"""Following the journal in bulk (`accepted_after`): the rows of the accepted first copies, unparsed."""

from __future__ import annotations

import orjson
import pytest

from mockpipe.journal import packed
from mockpipe.journal.follow import accepted_after, received_text
from mockpipe.journal.journal import Call, CallQuery, Journal, RequestRecord
from mockpipe.spec.times import time_ms

TIME = "2026-01-01T00:00:00.000Z"


def _request(journal: Journal, key: str, *, accepted: bool = True, received_at: str = TIME) -> RequestRecord:
    status = 200 if accepted else 400
    return RequestRecord(
        journal.next_request_id(), received_at, "POST", "/v1/batch", key, "basic", status, accepted,
        None, None, (), (), 10, None, None, None,
    )  # fmt: skip


def _call(
    journal: Journal, request: RequestRecord, message_id: str, *, call_id: int | None = None, user_id: str = "u1"
) -> Call:
    payload = {"type": "track", "event": "E", "userId": user_id, "messageId": message_id}
    return Call(
        journal.next_call_id() if call_id is None else call_id, request.id, str(request.write_key), "track",
        request.received_at, "us", request.path, True, request.accepted, (), message_id, user_id, None, "E", None,
        orjson.dumps(payload),
    )  # fmt: skip


def _record(journal: Journal, key: str, *message_ids: str, accepted: bool = True, received_at: str = TIME) -> None:
    request = _request(journal, key, accepted=accepted, received_at=received_at)
    journal.record(request, [_call(journal, request, m) for m in message_ids])


def _fields(call: Call) -> tuple[int, str, str, int | str, bytes]:
    received = call.received_at if call.received_at.endswith("456Z") else time_ms(call.received_at)
    return (call.id, call.write_key, call.type, received, call.raw)


def test_the_accepted_first_copies_after_an_id_as_journal_calls_reads_them() -> None:
    journal = Journal()
    _record(journal, "k1", "m1", "m2")
    _record(journal, "k2", "m3", accepted=False)  # rejected: not followed
    _record(journal, "k1", "m1", "m4")  # m1 again: a resend, not followed
    _record(journal, "k2", "m5", received_at="2026-01-01T00:00:00.123456Z")  # a time kept as sent
    expected = [_fields(call) for call in journal.calls(CallQuery(accepted=True))]
    assert [call[0] for call in expected] == [1, 2, 5, 6]

    found, more = accepted_after(journal, 0)
    assert (found, more) == (expected, False)
    # Times as milliseconds, but for one the journal kept as sent; both read back as texts.
    assert found[0][3] == 1767225600000 and found[-1][3] == "2026-01-01T00:00:00.123456Z"
    assert [received_text(call[3]) for call in found] == [call.received_at for call in journal.calls(accepted=True)]
    assert accepted_after(journal, 2) == (expected[2:], False)
    assert accepted_after(journal, 6) == ([], False)


def test_a_limit_cuts_the_list_and_says_whether_more_follow() -> None:
    journal = Journal()
    _record(journal, "k1", "m1", "m2", "m3")
    found, more = accepted_after(journal, 0, 2)
    assert [call[0] for call in found] == [1, 2] and more
    found, more = accepted_after(journal, 2, 2)
    assert [call[0] for call in found] == [3] and not more
    assert accepted_after(journal, 0, 0) == ([], False)
    _record(journal, "k1", "m4", "m5", accepted=False)
    _record(journal, "k1", "m6", "m7")
    found, more = accepted_after(journal, 2, 2)  # rows turned down are looked past, to fill the limit
    assert [call[0] for call in found] == [3, 6] and more


def test_a_journal_restored_out_of_order_is_read_whole_in_its_own_order() -> None:
    journal = Journal()
    request = _request(journal, "k1")
    calls = [_call(journal, request, f"m{i}", call_id=i, user_id=f"u{i}") for i in (5, 3, 9)]
    journal.restore([request], calls)
    assert not journal.ids_in_order
    found, more = accepted_after(journal, 3, 1)  # the limit is no use without ids in order: ignored
    assert [(call[0], orjson.loads(call[4])["userId"]) for call in found] == [(5, "u5"), (9, "u9")]
    assert not more


def test_a_bounded_journal_gives_only_the_calls_it_keeps() -> None:
    journal = Journal(max_calls=2)
    _record(journal, "k1", "m1", "m2")
    _record(journal, "k1", "m3")
    assert [call[0] for call in accepted_after(journal, 0)[0]] == [2, 3]


def test_calls_whose_shapes_are_their_own_are_read_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packed, "SHAPES_KEPT", 1)  # the first shape is shared, every other one a row's own
    journal = Journal()
    _record(journal, "k1", "m1")
    _record(journal, "k2", "m2", "m3")
    _record(journal, "k3", "m4", accepted=False)
    assert journal._calls._own_shapes  # what this test is about
    found, _ = accepted_after(journal, 0)
    assert [(call[0], call[1]) for call in found] == [(1, "k1"), (2, "k2"), (3, "k2")]
