"""Each server-side SDK against injected faults: its retries get every call through exactly once, and
every attempt is in the journal, counted into the attempts of the calls it carried.

Scenario per SDK (max_retries 3, Retry-After 1 s to keep the wall time low): a 429 with Retry-After,
then a 503, then the emulator's own 200; and a connection closed without an answer, then 200.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

import orjson
import pytest

from mockpipe import Call, MockPipeServer, RequestQuery, RequestRecord
from mockpipe.emulator.faults import message_ids
from tests.support.sdk_scenario import (
    NODE_SDKS,
    PYTHON_SDKS,
    SDKS,
    check_scenario,
    node_missing,
    python_client,
    send_node,
    send_python,
)

SERVER_SDKS = PYTHON_SDKS + NODE_SDKS
# Sends its first call alone, at once, and the others in a second batch: two requests share the faults.
SPLITS_FIRST_CALL = {"analytics-node-legacy"}
# Waits for Retry-After before resending (clients.md); the others ignore it.
HONOURS_RETRY_AFTER = {"segment-analytics-python", "segment-analytics-node"}
MAX_RETRIES = 3


def run_scenario(name: str, server: MockPipeServer, key: str) -> None:
    if SDKS[name].kind == "python":
        with python_client(name, server.url, key, max_retries=MAX_RETRIES) as client:
            send_python(client)
        return
    reason = node_missing(name)
    if reason:
        pytest.skip(reason)
    send_node(name, server.url, key, max_retries=MAX_RETRIES)


def check_attempts(server: MockPipeServer, calls: list[Call], requests: list[RequestRecord]) -> Counter[str]:
    """Every faulted attempt is journaled with its body, and counted into the calls it carried."""
    faulted = [r for r in requests if r.fault is not None]
    carried = Counter(mid for r in faulted for mid in message_ids(orjson.loads(r.body or b"{}")))
    assert {call.message_id: server.journal.attempts(call.id) for call in calls} == {
        call.message_id: 1 + carried[call.message_id] for call in calls
    }
    return carried


@pytest.mark.parametrize("name", SERVER_SDKS)
def test_429_with_retry_after_then_503_then_the_calls_arrive_once(server: MockPipeServer, name: str) -> None:
    key = f"sdk_{uuid.uuid4().hex[:12]}"
    server.faults.fail_next(1, status=429, retry_after=1, write_key=key)
    server.faults.fail_next(1, status=503, write_key=key)
    run_scenario(name, server, key)

    calls = server.calls(write_key=key)
    check_scenario(name, calls)
    assert server.calls(write_key=key, duplicates=True) == calls  # no copy got through twice
    requests = server.requests(RequestQuery(write_key=key))
    assert [r.status for r in requests if r.fault] == [429, 503]
    assert requests[0].status == 429 and requests[-1].status == 200
    carried = check_attempts(server, calls, requests)
    if name not in SPLITS_FIRST_CALL:  # one batch, sent three times
        assert set(carried.values()) == {2} and len(carried) == len(calls)
    if name in HONOURS_RETRY_AFTER:
        gap = _seconds_between(requests[0], requests[1])
        assert gap >= 0.95, f"resent {gap:.3f} s after a 429 with Retry-After: 1"


@pytest.mark.parametrize("name", SERVER_SDKS)
def test_a_connection_closed_without_answer_is_retried(server: MockPipeServer, name: str) -> None:
    key = f"sdk_{uuid.uuid4().hex[:12]}"
    server.faults.drop_next(1, write_key=key)
    run_scenario(name, server, key)

    calls = server.calls(write_key=key)
    check_scenario(name, calls)
    requests = server.requests(RequestQuery(write_key=key))
    assert requests[0].status == 0 and "close" in (requests[0].fault or "")
    assert [r.status for r in requests[1:]] == [200] * (len(requests) - 1)
    carried = check_attempts(server, calls, requests)
    assert sum(carried.values()) >= 1


def _seconds_between(first: RequestRecord, second: RequestRecord) -> float:
    return (datetime.fromisoformat(second.received_at) - datetime.fromisoformat(first.received_at)).total_seconds()
