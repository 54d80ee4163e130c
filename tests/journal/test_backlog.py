"""The backlog: requests answered ahead, processed in the order they came, once each, by one thread at a time."""

from __future__ import annotations

import threading
import time

import pytest

from mockpipe.journal.backlog import Backlog, PendingRequest


def _pending(number: int) -> PendingRequest:
    return (f"/v1/track/{number}", (), b"{}", False, 0.0)


def _filled(count: int) -> Backlog:
    backlog = Backlog()
    for number in range(count):
        backlog.add(_pending(number))
    return backlog


def test_catch_up_processes_in_order_and_only_once() -> None:
    backlog = _filled(5)
    seen: list[str] = []
    backlog.processor = lambda pending: seen.append(pending[0])
    assert not backlog.caught_up
    assert backlog.catch_up() is True
    assert backlog.catch_up() is True
    assert seen == [f"/v1/track/{number}" for number in range(5)]
    assert backlog.caught_up and len(backlog) == 0


def test_without_a_processor_requests_are_kept_and_readers_go_on() -> None:
    backlog = _filled(2)
    assert backlog.catch_up() is True  # a reader does not wait for what nothing would process
    assert backlog.caught_up
    assert len(backlog) == 2


def test_a_budget_stops_between_requests_and_the_rest_waits() -> None:
    backlog = _filled(200)

    def slow(pending: PendingRequest) -> None:
        time.sleep(0.001)

    backlog.processor = slow
    assert backlog.catch_up(budget=0.01) is False
    assert 0 < len(backlog) < 200
    assert backlog.catch_up() is True


def test_a_request_that_fails_is_logged_and_the_others_go_on(caplog: pytest.LogCaptureFixture) -> None:
    backlog = _filled(3)
    seen: list[str] = []

    def process(pending: PendingRequest) -> None:
        if pending[0].endswith("/1"):
            raise RuntimeError("broken")
        seen.append(pending[0])

    backlog.processor = process
    assert backlog.catch_up() is True
    assert seen == ["/v1/track/0", "/v1/track/2"]
    assert "failed to process a request to /v1/track/1" in caplog.text


def test_catch_up_from_within_processing_returns_at_once() -> None:
    backlog = _filled(3)
    inner: list[bool] = []

    def process(pending: PendingRequest) -> None:
        inner.append(backlog.catch_up())  # a record taking ids, say: the order stays the backlog's

    backlog.processor = process
    assert backlog.catch_up() is True
    assert inner == [False, False, False]


def test_threads_catching_up_together_process_each_request_once_in_order() -> None:
    backlog = _filled(2_000)
    seen: list[str] = []
    backlog.processor = lambda pending: seen.append(pending[0])
    threads = [threading.Thread(target=backlog.catch_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [f"/v1/track/{number}" for number in range(2_000)]


def test_a_reader_waits_for_the_request_another_thread_is_processing() -> None:
    backlog = _filled(1)
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def process(pending: PendingRequest) -> None:
        started.set()
        release.wait(5)
        done.append(pending[0])

    backlog.processor = process
    worker = threading.Thread(target=backlog.catch_up)
    worker.start()
    assert started.wait(5)
    assert len(backlog) == 0 and not backlog.caught_up  # taken, not processed yet
    reader = threading.Thread(target=backlog.catch_up)
    reader.start()
    time.sleep(0.05)
    assert reader.is_alive()  # waits: what was answered is not readable yet
    release.set()
    reader.join(5)
    worker.join(5)
    assert done == ["/v1/track/0"] and backlog.caught_up


def test_a_read_ends_under_a_steady_flow_of_new_requests() -> None:
    # Each request processed brings another (a server answering while a reader catches up): the read
    # processes what was answered before it started, and leaves the rest to the next one.
    backlog = _filled(3)
    seen: list[str] = []

    def process(pending: PendingRequest) -> None:
        seen.append(pending[0])
        backlog.add(_pending(100 + len(seen)))

    backlog.processor = process
    assert backlog.catch_up() is True
    assert seen == ["/v1/track/0", "/v1/track/1", "/v1/track/2"]
    assert len(backlog) == 3 and not backlog.caught_up


def test_with_a_budget_a_catch_up_does_not_wait_for_another_thread() -> None:
    backlog = _filled(2)
    started, release = threading.Event(), threading.Event()

    def hold(pending: PendingRequest) -> None:
        started.set()
        release.wait(5)

    backlog.processor = hold
    worker = threading.Thread(target=backlog.catch_up)
    worker.start()
    assert started.wait(5)
    assert backlog.busy
    assert backlog.catch_up(budget=0.001) is False  # at once: the event loop tries again after a turn
    release.set()
    worker.join(5)
    assert backlog.caught_up


def test_a_budget_is_checked_after_each_request() -> None:
    backlog = _filled(5)
    backlog.processor = lambda pending: time.sleep(0.02)
    assert backlog.catch_up(budget=0.001) is False
    assert len(backlog) == 4  # one request, then the budget was spent


def test_paused_processes_what_was_answered_and_stops_answering_ahead() -> None:
    backlog = _filled(2)
    seen: list[str] = []
    backlog.processor = lambda pending: seen.append(pending[0])
    with backlog.paused():
        assert backlog.pauses == 1 and len(seen) == 2
    assert backlog.pauses == 0
    backlog.follow(+1)
    backlog.follow(-1)
    assert backlog.followers == 0
