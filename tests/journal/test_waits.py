"""Waiting for calls: a wait's answer covers every request answered before it began, whatever its
timeout, including those still in the backlog or being processed by another thread."""

from __future__ import annotations

import asyncio
import threading
import time

from mockpipe.journal.backlog import PendingRequest
from mockpipe.journal.journal import Journal
from tests.journal.test_journal import add


def _answered(journal: Journal, message_ids: list[str]) -> None:
    """Leave one request per message id in the backlog, as the server does once it has answered."""
    for message_id in message_ids:
        journal.backlog.add((message_id, (), b"{}", False, 0.0))


def test_a_long_poll_with_no_time_left_sees_what_another_thread_is_processing() -> None:
    journal = Journal()
    started, go = threading.Event(), threading.Event()

    def process(pending: PendingRequest) -> None:
        started.set()
        go.wait(5)
        add(journal, "k1", message_id=pending[0])

    journal.backlog.processor = process
    _answered(journal, ["m1"])
    reader = threading.Thread(target=journal.calls)  # a reader in another thread processes it, slowly
    reader.start()
    assert started.wait(5)

    async def poll() -> list[str | None]:
        threading.Timer(0.05, go.set).start()
        result = await journal.wait_for_async(1, 0, write_key="k1")
        assert not result.timed_out
        return [call.message_id for call in result.calls]

    assert asyncio.run(poll()) == ["m1"]
    reader.join(5)


def test_a_long_poll_with_no_time_left_processes_every_request_answered_before_it() -> None:
    journal = Journal()

    def process(pending: PendingRequest) -> None:
        time.sleep(0.001)  # more than one slice of processing in all: the poll takes several turns
        add(journal, "k1", message_id=pending[0])

    journal.backlog.processor = process
    message_ids = [f"m{number}" for number in range(60)]
    _answered(journal, message_ids)
    result = asyncio.run(journal.wait_for_async(60, 0, write_key="k1"))
    assert not result.timed_out
    assert [call.message_id for call in result.calls] == message_ids


def test_a_long_poll_with_no_time_left_times_out_with_what_there_is() -> None:
    journal = Journal()

    def process(pending: PendingRequest) -> None:
        add(journal, "k1", message_id=pending[0])

    journal.backlog.processor = process
    _answered(journal, ["m0"])
    result = asyncio.run(journal.wait_for_async(2, 0, write_key="k1"))
    assert result.timed_out
    assert [call.message_id for call in result.calls] == ["m0"]
