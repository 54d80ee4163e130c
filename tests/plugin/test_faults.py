"""The fixture's fault methods: rules on the test's own write key, cleared after the test."""

from __future__ import annotations

import time

import httpx
import pytest
from pytest_mockpipe import MockPipe
from segment.analytics import Client

from tests.support.sending import Send

TRACK = {"userId": "u1", "event": "Order Completed", "messageId": "m-1"}


def test_fail_next_answers_the_status_then_lets_the_resend_through(mockpipe: MockPipe, send: Send) -> None:
    mockpipe.fail_next(2, status=429, retry_after=1)
    answers = [send(mockpipe, "track", TRACK) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["retry-after"] == "1" and answers[0].json()["code"] == "fault.injected"
    [call] = mockpipe.records()
    assert mockpipe.journal.attempts(call.id) == 3
    assert [r.status for r in mockpipe.requests()] == [429, 429, 200]
    assert mockpipe.violations == []  # injected faults are not the test's mistakes


def test_faults_touch_only_the_test_s_write_key(mockpipe: MockPipe, send: Send) -> None:
    mockpipe.fail_all(status=500)
    other = mockpipe.using(mockpipe.server)  # another key on the same server
    assert send(other, "track", TRACK).status_code == 200
    assert send(mockpipe, "track", TRACK).status_code == 500
    assert mockpipe.clear_faults() == 1
    assert send(mockpipe, "track", TRACK).status_code == 200


def test_drop_next_and_delay(mockpipe: MockPipe, send: Send) -> None:
    mockpipe.drop_next()
    with pytest.raises(httpx.RemoteProtocolError):
        send(mockpipe, "track", TRACK)
    mockpipe.delay(100, count=1)
    started = time.perf_counter()
    assert send(mockpipe, "track", TRACK).status_code == 200
    assert time.perf_counter() - started >= 0.1
    [call] = mockpipe.records()
    assert mockpipe.journal.attempts(call.id) == 2  # the dropped attempt, then the delayed one


def test_an_sdk_retries_through_a_429(mockpipe: MockPipe) -> None:
    client = Client(mockpipe.write_key, host=mockpipe.url, upload_interval=0.05, max_retries=2)
    mockpipe.fail_next(1, status=429, retry_after=1)
    client.track("u1", "Order Completed", {"revenue": 9.5})
    client.flush()  # segment-analytics-python waits out the Retry-After, then resends
    client.shutdown()
    [call] = mockpipe.records()
    assert mockpipe.journal.attempts(call.id) == 2
    assert [r.status for r in mockpipe.requests()] == [429, 200]


def test_rules_are_cleared_after_each_test(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        def test_leaves_a_rule(mockpipe):
            mockpipe.fail_all(status=503)
            assert mockpipe.server.faults.active

        def test_finds_none(mockpipe_server):
            assert mockpipe_server.faults.rules() == [] and not mockpipe_server.faults.active
    """)
    plugin_tester.runpytest().assert_outcomes(passed=2)
