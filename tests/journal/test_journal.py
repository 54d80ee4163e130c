"""The journal: records, queries, duplicates, waiting, bounds and sources."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import orjson
import pytest

from mockpipe.errors import JournalWriteError
from mockpipe.journal.journal import Call, CallQuery, Journal, RequestQuery, RequestRecord

ROOT = Path(__file__).resolve().parents[2]


def make_request(journal: Journal, key: str = "k1", *, accepted: bool = True) -> RequestRecord:
    return RequestRecord(
        journal.next_request_id(),
        "2026-01-01T00:00:00.000Z",
        "POST",
        "/v1/track",
        key,
        "basic",
        200,
        accepted,
        None,
        None,
        (),
        (),
        10,
        None,
        None,
        None,
    )


def make_call(
    journal: Journal,
    request: RequestRecord,
    *,
    message_id: str = "",
    type: str = "track",
    event: str | None = "E",
    user_id: str | None = "u1",
    valid: bool = True,
) -> Call:
    message_id = message_id or f"m{journal.next_call_id()}"
    payload = {"type": type, "event": event, "userId": user_id, "messageId": message_id}
    return Call(
        journal.next_call_id(),
        request.id,
        str(request.write_key),
        type,
        request.received_at,
        "us",
        request.path,
        valid,
        True,
        (),
        message_id,
        user_id,
        None,
        event,
        None,
        orjson.dumps(payload),
    )


def add(journal: Journal, key: str = "k1", **call_options: object) -> Call:
    request = make_request(journal, key)
    _, (call,) = journal.record(request, [make_call(journal, request, **call_options)])  # type: ignore[arg-type]
    return call


def test_calls_are_partitioned_by_key_and_filtered() -> None:
    journal = Journal()
    add(journal, "k1", event="A")
    add(journal, "k2", event="A")
    add(journal, "k1", event="B", user_id="u2", type="track")
    assert [c.event for c in journal.calls(write_key="k1")] == ["A", "B"]
    assert [c.write_key for c in journal.calls(event="A")] == ["k1", "k2"]
    assert [c.user_id for c in journal.calls(CallQuery(write_key="k1", user_id="u2"))] == ["u2"]
    assert journal.calls(write_key="nobody") == []
    with pytest.raises(TypeError, match="unknown call filter"):
        journal.calls(usr_id="u1")


def test_resends_count_as_one_call_with_attempts() -> None:
    journal = Journal()
    first = add(journal, message_id="same")
    again = add(journal, message_id="same")
    add(journal, "other", message_id="same")  # another key: not a resend
    assert again.duplicate_of == first.id
    assert [c.id for c in journal.calls(write_key="k1")] == [first.id]
    assert len(journal.calls(write_key="k1", duplicates=True)) == 2
    assert journal.attempts(first.id) == 2
    assert journal.source("k1").duplicates == 1


def test_paging_after_and_limit() -> None:
    journal = Journal()
    ids = [add(journal).id for _ in range(5)]
    assert [c.id for c in journal.calls(after=ids[1], limit=2)] == ids[2:4]


def test_max_calls_drops_the_oldest_and_counts_them() -> None:
    journal = Journal(max_calls=3)
    ids = [add(journal, message_id=f"m{i}").id for i in range(5)]
    assert [c.id for c in journal.calls()] == ids[2:]
    assert journal.dropped_calls == 2
    assert len(journal.requests()) == 3
    # a dropped call's messageId is forgotten: its resend is new
    assert add(journal, message_id="m0").duplicate_of is None


def test_clear_one_key_or_everything() -> None:
    journal = Journal()
    add(journal, "k1")
    add(journal, "k2")
    assert journal.clear("k1") == 1
    assert [c.write_key for c in journal.calls()] == ["k2"]
    assert journal.requests(RequestQuery(write_key="k1")) == []
    assert journal.source("k1").connected is False
    assert journal.clear() == 1
    assert len(journal) == 0


def test_source_status_connects_on_the_first_accepted_call() -> None:
    journal = Journal()
    assert journal.source("k1").to_dict()["connected"] is False
    journal.record(make_request(journal, "k1", accepted=False))
    assert journal.source("k1").connected is False
    add(journal, "k1", type="identify", event=None)
    status = journal.source("k1").to_dict()
    assert status["connected"] is True
    assert status["calls"] == 1 and status["requests"] == 2 and status["rejectedRequests"] == 1
    assert status["byType"] == {"identify": 1}
    assert status["firstReceivedAt"] == status["lastReceivedAt"]


def test_wait_for_returns_as_soon_as_the_call_lands() -> None:
    journal = Journal()
    threading.Timer(0.05, lambda: add(journal, event="Late")).start()
    started = time.monotonic()
    result = journal.wait_for(count=1, timeout=5.0, event="Late")
    assert not result.timed_out and len(result.calls) == 1
    assert time.monotonic() - started < 2.0


def test_wait_for_times_out_with_what_there_is() -> None:
    journal = Journal()
    add(journal)
    result = journal.wait_for(2, 0.05, write_key="k1")
    assert result.timed_out and len(result.calls) == 1


def test_async_wait_is_woken_from_another_thread() -> None:
    journal = Journal()

    async def scenario() -> tuple[bool, int]:
        threading.Timer(0.05, lambda: add(journal, "k9")).start()
        result = await journal.wait_for_async(1, 5.0, write_key="k9")
        return result.timed_out, len(result.calls)

    assert asyncio.run(scenario()) == (False, 1)


def test_listeners_see_each_request_and_a_broken_one_is_contained(caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal()
    seen: list[int] = []
    journal.subscribe(lambda request, calls: seen.append(len(calls)))

    def broken(request: RequestRecord, calls: list[Call]) -> None:
        raise RuntimeError("listener bug")

    unsubscribe = journal.subscribe(broken)
    add(journal)
    unsubscribe()
    add(journal)
    assert seen == [1, 1]
    assert "listener bug" in caplog.text


def test_query_from_http_params() -> None:
    query = CallQuery.from_params({"writeKey": "k", "userId": "u", "valid": "false", "limit": "5", "after": "3"})
    assert query == CallQuery(write_key="k", user_id="u", valid=False, limit=5, after=3)
    with pytest.raises(ValueError, match="valid='maybe'"):
        CallQuery.from_params({"valid": "maybe"})
    with pytest.raises(ValueError, match="limit"):
        CallQuery.from_params({"limit": "-1"})


def test_an_accepted_copy_is_not_hidden_behind_a_rejected_one() -> None:
    journal = Journal()
    request = make_request(journal)
    rejected = make_call(journal, request, message_id="m-1")._replace(accepted=False, valid=False)
    journal.record(request, [rejected])
    again = make_request(journal)
    _, (accepted,) = journal.record(again, [make_call(journal, again, message_id="m-1")])
    assert accepted.duplicate_of is None
    assert [c.id for c in journal.calls(accepted=True)] == [accepted.id]
    third = make_request(journal)
    _, (resent,) = journal.record(third, [make_call(journal, third, message_id="m-1")])
    assert resent.duplicate_of == accepted.id


def test_a_failing_durable_listener_fails_the_record() -> None:
    journal = Journal()

    def full_disk(request: RequestRecord, calls: list[Call]) -> None:
        raise OSError("No space left on device")

    journal.subscribe(full_disk, durable=True)
    with pytest.raises(JournalWriteError, match="No space left"):
        add(journal)


def record_batch(journal: Journal, key: str, size: int, *, prefix: str = "b") -> list[Call]:
    request = make_request(journal, key)
    calls = [make_call(journal, request, message_id=f"{prefix}-{request.id}-{i}", event=f"E{i}") for i in range(size)]
    request = request._replace(call_ids=tuple(call.id for call in calls))
    return journal.record(request, calls)[1]


def test_calls_read_back_as_they_were_recorded() -> None:
    journal = Journal()
    recorded = [*record_batch(journal, "k1", 3), add(journal, "k2", user_id=None)]
    assert journal.calls() == recorded
    assert [journal.call(call.id) for call in recorded] == recorded
    assert journal.call(999) is None
    [request] = journal.requests(RequestQuery(write_key="k1"))
    assert request.call_ids == tuple(call.id for call in recorded[:3])


def test_requests_keep_what_is_rare_about_them() -> None:
    journal = Journal()
    request = make_request(journal, accepted=False)._replace(
        status=400,
        reason="request.json.invalid",
        message="bad",
        body=b"{nope",
        call_ids=(7, 3),
        user_agent="sdk/1",
        retry_count="2",
        content_encoding="gzip",
        received_at="not a time",
    )
    journal.record(request)
    assert journal.requests() == [request]
    assert journal.request(request.id) == request
    assert journal.requests(RequestQuery(status=400, accepted=False, write_key="k1")) == [request]
    assert journal.requests(RequestQuery(status=200)) == []


def test_a_key_shared_by_two_message_ids_does_not_make_a_resend(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("mockpipe.journal.packed", "mockpipe.journal.journal"):  # every messageId has the same key
        monkeypatch.setattr(f"{module}.KEY_MASK", 0)
    journal = Journal()
    first, second = add(journal, message_id="m-1"), add(journal, message_id="m-2")
    assert (first.duplicate_of, second.duplicate_of) == (None, None)
    assert add(journal, message_id="m-2").duplicate_of == second.id
    assert add(journal, message_id="m-1").duplicate_of == first.id
    assert journal.attempts(first.id) == journal.attempts(second.id) == 2


def test_filters_confirm_what_the_row_keys_suggest(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("mockpipe.journal.packed", "mockpipe.journal.journal"):  # every text has the same key
        monkeypatch.setattr(f"{module}.KEY_MASK", 0)
    journal = Journal()
    add(journal, event="A", user_id="u1")
    add(journal, event="B", user_id="u2")
    assert [c.event for c in journal.calls(event="B")] == ["B"]
    assert [c.user_id for c in journal.calls(user_id="u1", write_key="k1")] == ["u1"]
    assert journal.wait_for(1, 0, event="C").calls == []


def test_a_bound_drops_whole_batches_and_reads_stay_right_across_trims() -> None:
    journal = Journal(max_calls=250)
    dropped: list[Call] = []
    journal.on_drop(dropped.extend)
    recorded = [call for i in range(40) for call in record_batch(journal, f"k{i % 3}", 25)]
    assert journal.calls() == recorded[-250:]
    assert [c.id for c in dropped] == [c.id for c in recorded[:-250]]
    assert journal.dropped_calls == 750
    assert journal.calls(write_key="k1") == [c for c in recorded[-250:] if c.write_key == "k1"]
    newest = recorded[-1]
    assert journal.calls(after=newest.id - 3) == recorded[-3:]
    assert journal.calls(write_key=newest.write_key, after=newest.id - 3) == recorded[-3:]
    assert journal.latest_calls(2, write_key="k0") == [c for c in recorded if c.write_key == "k0"][-2:]


def test_clearing_one_key_keeps_the_others_readable_after_drops() -> None:
    journal = Journal(max_calls=400)
    recorded = [call for i in range(30) for call in record_batch(journal, f"k{i % 2}", 20)]
    assert journal.clear("k0") == 200
    kept = [c for c in recorded[-400:] if c.write_key == "k1"]
    assert journal.calls() == kept
    assert journal.calls(write_key="k1") == kept
    assert [journal.call(c.id) for c in kept[::37]] == kept[::37]
    more = record_batch(journal, "k0", 5)
    assert journal.calls(write_key="k0") == more
    assert journal.wait_for(5, 0, write_key="k0").calls == more


def test_a_new_kind_of_request_beyond_the_shared_ones_keeps_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mockpipe.journal.packed.SHAPES_KEPT", 2)
    journal = Journal()
    calls = [add(journal, f"k{i}") for i in range(5)]
    assert journal.calls() == calls
    assert [r.write_key for r in journal.requests()] == [f"k{i}" for i in range(5)]
    journal.clear("k3")
    assert [c.write_key for c in journal.calls()] == ["k0", "k1", "k2", "k4"]
    batch = record_batch(journal, "k5", 3)  # each call of a batch beyond the shared shapes keeps its own
    assert journal.calls(write_key="k5") == batch


def references_walked(roots: list[object]) -> int:
    """References a collection walks among the tracked objects `roots` reach (types, modules and
    functions aside: every object reaches the whole process through them)."""
    seen: set[int] = set()
    stack = list(roots)
    walked = 0
    while stack:
        tracked = stack.pop()
        if id(tracked) in seen or not gc.is_tracked(tracked) or isinstance(tracked, _SHARED):
            continue
        seen.add(id(tracked))
        referents = gc.get_referents(tracked)
        walked += len(referents)
        stack.extend(referents)
    return walked


_SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


def references_added_by_recording() -> int:
    """References a collection walks after 1,000 more calls (100 requests) are recorded."""
    journal = Journal()
    record_batch(journal, "k", 10)
    gc.collect()
    before = references_walked([journal])
    # Walking every object of the process takes minutes on 3.12 at the end of a suite: freezing them
    # sets aside all but what the recording makes, so a per-call object kept anywhere is still seen.
    gc.freeze()
    try:
        for _ in range(100):
            record_batch(journal, "k", 10)
        gc.collect()
        after = references_walked([journal, *gc.get_objects()])
    finally:
        gc.unfreeze()
    return after - before


def test_the_garbage_collector_has_little_to_walk_per_call() -> None:
    # In an interpreter of its own: in the suite's, what other tests left running (a server's thread,
    # a pool) makes objects meanwhile, and counting every new object would count those too.
    measure = "from tests.journal.test_journal import references_added_by_recording as m; print(m())"
    done = subprocess.run(
        [sys.executable, "-c", measure], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    # 1,000 calls of 100 requests: one reference per request (its JSON), none per call
    assert int(done.stdout) < 200


def test_records_restored_out_of_order_are_still_found() -> None:
    source = Journal()
    calls = [add(source, message_id=f"m{i}") for i in range(3)]
    shuffled = [calls[1]._replace(id=50), calls[0]._replace(id=7), calls[2]._replace(id=20)]
    journal = Journal()
    journal.restore(source.requests(), shuffled)
    assert [journal.call(call.id) for call in shuffled] == shuffled
    assert journal.call(8) is None
    assert [c.id for c in journal.calls(after=10)] == [50, 20]
    assert [c.id for c in journal.calls(write_key="k1", after=10)] == [50, 20]


def test_a_call_pushed_out_by_its_own_request_is_not_a_resend_target() -> None:
    journal = Journal(max_calls=2)
    add(journal, message_id="m1")
    add(journal, message_id="m2")
    request = make_request(journal)
    calls = [make_call(journal, request, message_id="m9"), make_call(journal, request, message_id="m1")]
    _, stored = journal.record(request, calls)
    assert [c.duplicate_of for c in stored] == [None, None]  # m1's first copy went with this request
    assert [c.message_id for c in journal.calls()] == ["m9", "m1"]


def test_a_shared_key_passes_on_when_its_holder_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("mockpipe.journal.packed", "mockpipe.journal.journal"):  # every messageId has the same key
        monkeypatch.setattr(f"{module}.KEY_MASK", 0)
    journal = Journal(max_calls=4)
    first_b = [add(journal, message_id=m) for m in ("A", "C", "B", "D")][2]
    add(journal, message_id="E")  # drops A, which held the key
    assert add(journal, message_id="B").duplicate_of == first_b.id
    assert journal.attempts(first_b.id) == 2


def test_calls_recorded_by_hand_without_a_write_key_are_kept_and_counted() -> None:
    journal = Journal()
    at = "2026-01-02T03:04:05.678Z"
    request = RequestRecord(
        1, at, "POST", "/v1/track", None, None, 200, True, None, None, (), (1,), 10, None, None, None
    )
    call = Call(
        1,
        1,
        None,  # type: ignore[arg-type]  # what this test is about: no write key
        "track",
        at,
        "us",
        "/v1/track",
        True,
        True,
        (),
        "m1",
        "u",
        None,
        "E",
        None,
        b'{"messageId":"m1","userId":"u","event":"E"}',
    )
    journal.record(request, [call])
    assert journal.calls() == [call]
    assert journal.source(None).calls == 1  # type: ignore[arg-type]
