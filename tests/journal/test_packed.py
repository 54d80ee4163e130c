"""Packed rows: text keys and the tables' bookkeeping (received-at times: tests/spec/test_times.py)."""

from __future__ import annotations

from mockpipe.journal.packed import CallTable, text_key
from mockpipe.journal.records import Call


def test_text_keys() -> None:
    assert text_key(None) == 0
    assert text_key("") != 0  # "" hashes to 0 in CPython
    assert text_key("m-1") == text_key("m-" + "1") < 2**60


def call(call_id: int, raw: bytes, *, request_id: int = 1) -> Call:
    return Call(
        call_id,
        request_id,
        "k",
        "track",
        "2026-01-02T03:04:05.678Z",
        "us",
        "/v1/batch",
        True,
        True,
        (),
        "",
        None,
        None,
        None,
        None,
        raw,
    )


def test_calls_of_one_request_share_one_blob_and_read_back_their_own_span() -> None:
    table = CallTable()
    first = table.append([call(1, b'{"messageId":"a","event":"A"}'), call(2, b'{"messageId":"b","name":"N"}')])
    table.append([call(3, b'{"userId":7}', request_id=2)])
    assert (first, len(table), len(table.blobs)) == (0, 3, 2)
    assert [table.call(i).raw for i in range(3)] == [
        b'{"messageId":"a","event":"A"}',
        b'{"messageId":"b","name":"N"}',
        b'{"userId":7}',
    ]
    assert (table.call(0).message_id, table.call(0).event, table.call(1).name) == ("a", "A", "N")
    assert table.call(2).user_id == "7"  # ids given as numbers are found as text


def test_dropping_frees_a_blob_with_its_last_call_and_trims_the_front() -> None:
    table = CallTable()
    for number in range(0, 3000, 2):
        table.append([call(number + 1, b"{}", request_id=number), call(number + 2, b"{}", request_id=number)])
    table.drop_oldest()
    assert table.blobs[0] is not None  # the other call of the request still needs it
    table.drop_oldest()
    for _ in range(2000):
        table.drop_oldest()
    assert len(table) == 998 and table.call(table.head).id == 2003
    assert table.head < 300 and table.base > 0  # the front was trimmed along the way
    assert table.index_of(2003) == table.head and table.index_of(1) is None
