"""The fixture's names of the last release: each warns, naming its replacement, and behaves as it did."""

from __future__ import annotations

import threading

import pytest
from pytest_mockpipe import MockPipe

from mockpipe import CallAssertionError, SourceStatus, WaitResult
from tests.support.sending import Send


def test_calls_warns_and_returns_the_payloads(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "track", {"userId": "u1", "event": "A"})
    send(mockpipe, "identify", {"userId": "u1"})
    with pytest.deprecated_call(match=r"MockPipe\.calls\(\) is deprecated: use payloads\(\)") as warned:
        payloads = mockpipe.calls(type="track")
    assert payloads == mockpipe.payloads(type="track") and [p["event"] for p in payloads] == ["A"]
    assert warned[0].filename == __file__  # the warning points at the test's own line


def test_source_status_warns_and_is_source(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "track", {"userId": "u1", "event": "A"})
    with pytest.deprecated_call(match=r"MockPipe\.source_status\(\) is deprecated: use source\(\)"):
        status = mockpipe.source_status()
    assert isinstance(status, SourceStatus) and status == mockpipe.source() and status.connected


def test_wait_for_warns_and_still_returns_the_payloads(mockpipe: MockPipe, send: Send) -> None:
    later = threading.Timer(0.05, send, (mockpipe, "track", {"userId": "u1", "event": "Late"}))
    later.start()
    try:
        with pytest.deprecated_call(match=r"MockPipe\.wait_for\(\) is deprecated: use expect\(\)") as warned:
            payloads = mockpipe.wait_for(1, 5, event="Late")  # the timeout was positional then
    finally:
        later.join()
    assert [p["event"] for p in payloads] == ["Late"]
    assert warned[0].filename == __file__


def test_wait_for_warns_and_still_raises_on_time_out_as_expect_does(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "track", {"userId": "u1", "event": "Other"})
    with pytest.deprecated_call(match=r"use expect\(\)"), pytest.raises(CallAssertionError) as old:
        mockpipe.wait_for(2, 0.05, type="track")
    with pytest.raises(CallAssertionError) as new:
        mockpipe.expect(2, timeout=0.05, type="track")
    assert (
        str(old.value)
        == str(new.value)
        == ("waited 0.05 s for 2 call(s) with type='track', 1 arrived\n  [0] track 'Other' userId='u1'")
    )


def test_wait_for_without_raising_is_the_journal_s_and_does_not_warn(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "track", {"userId": "u1", "event": "A"})
    # Under the suite's filterwarnings = error, a DeprecationWarning here would fail the test.
    result = mockpipe.wait_for(2, 0.05, raises=False, type="track")
    assert isinstance(result, WaitResult) and result.timed_out
    assert [call.event for call in result.calls] == ["A"] and result.calls == mockpipe.records()
    result = mockpipe.wait_for(1, raises=False)
    assert not result.timed_out and [call.payload for call in result.calls] == mockpipe.payloads()


def test_expect_takes_its_timeout_by_keyword_only(mockpipe: MockPipe) -> None:
    with pytest.raises(TypeError):
        mockpipe.expect(1, 0.05)  # type: ignore[call-arg]


def test_a_suite_under_filterwarnings_error_is_told_what_to_use(plugin_tester: pytest.Pytester) -> None:
    # plugin_tester runs with filterwarnings = error, as this suite and many others do
    plugin_tester.makepyfile("""
        def test_old(mockpipe):
            mockpipe.calls()
    """)
    result = plugin_tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*DeprecationWarning: MockPipe.calls() is deprecated: use payloads()*"])
