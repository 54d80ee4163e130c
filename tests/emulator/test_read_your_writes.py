"""Read-your-writes under a race (issue 17): a call is visible to every reader as soon as its answer
is in, whoever reads and however the server gets its work done.

Several client threads each send requests over one keep-alive connection (single calls and batches,
permissive and `X-Strict-Mode: 1` mixed, valid and not) and, right after each answer, read the calls
back one way or another: `GET /mockpipe/calls`, `GET /mockpipe/calls/wait?timeout=0`, the journal in
process, the server's and the pytest fixture's `wait_for` with no time to wait, the count, the
people model. Meanwhile the other threads send. At the end, the ids of the calls follow the order of
the answers: on one connection, and across connections for any request answered before another was
sent. A server that answers before it processes (issue 17's design) must keep all of this.
"""

from __future__ import annotations

import base64
import http.client
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import orjson
import pytest
from pytest_mockpipe.fixture import MockPipe

from mockpipe import MockPipeServer

THREADS = 4
REQUESTS_PER_THREAD = 300  # 1,200 requests, ~2,200 calls, each read back right after its answer
TIMESTAMP = "2026-12-04T10:00:00.000Z"


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of request: how many calls, strict or not, and whether its calls are valid."""

    events: int  # 1: POST /v1/track; more: POST /v1/batch
    strict: bool
    valid: bool

    @property
    def status(self) -> int:
        return 400 if self.strict and not self.valid else 200

    @property
    def accepted(self) -> bool:
        return self.status == 200


# Each thread goes through these in turn, each kind meeting each reader over the run.
KINDS = (
    Kind(1, strict=False, valid=True),
    Kind(3, strict=False, valid=True),
    Kind(1, strict=True, valid=True),
    Kind(4, strict=True, valid=True),
    Kind(1, strict=False, valid=False),  # permissive: answered 200, kept with its violation
    Kind(2, strict=False, valid=False),
    Kind(1, strict=True, valid=False),  # strict: answered 400, kept as not accepted
)


@dataclass(slots=True)
class Sent:
    """One request as its client saw it."""

    thread: int
    number: int
    kind: Kind
    user_id: str
    message_ids: list[str]
    sent_at: float = 0.0  # before the request's first byte left
    answered_at: float = 0.0  # once its whole answer was in
    ids: list[int] = field(default_factory=list)  # the ids of its calls, as first read back


def _call(user_id: str, message_id: str, valid: bool) -> dict[str, Any]:
    call: dict[str, Any] = {
        "type": "track",
        "userId": user_id,
        "messageId": message_id,
        "timestamp": TIMESTAMP,
        "properties": {"n": 1},
    }
    if valid:
        call["event"] = "Race Run"
    return call


def _body(sent: Sent) -> tuple[str, bytes]:
    calls = [_call(sent.user_id, message_id, sent.kind.valid) for message_id in sent.message_ids]
    if sent.kind.events == 1:
        (single,) = calls
        del single["type"]
        return "/v1/track", orjson.dumps(single)
    return "/v1/batch", orjson.dumps({"batch": calls})


class Client:
    """One thread's connections (one to send on, one to read on) and its views of the server."""

    def __init__(self, server: MockPipeServer, thread: int) -> None:
        self.server = server
        self.thread = thread
        self.write_key = f"wk-race-{thread}"
        self.view = MockPipe(server, write_key=self.write_key)  # the pytest fixture's view of this key
        self.sending = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.reading = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.auth = "Basic " + base64.b64encode(f"{self.write_key}:".encode()).decode()
        self.sent: list[Sent] = []

    def close(self) -> None:
        self.sending.close()
        self.reading.close()

    def send(self, number: int) -> Sent:
        kind = KINDS[number % len(KINDS)]
        prefix = f"t{self.thread}-n{number}"
        sent = Sent(self.thread, number, kind, f"u-{prefix}", [f"m-{prefix}-{i}" for i in range(kind.events)])
        path, body = _body(sent)
        headers = {"Authorization": self.auth, "Content-Type": "application/json"}
        if kind.strict:
            headers["X-Strict-Mode"] = "1"
        sent.sent_at = time.perf_counter()
        self.sending.request("POST", path, body, headers)
        answer = self.sending.getresponse()
        answer.read()
        sent.answered_at = time.perf_counter()
        assert answer.status == kind.status, (sent, answer.status)
        self.sent.append(sent)
        return sent

    def get(self, path: str) -> dict[str, Any]:
        self.reading.request("GET", path)
        answer = self.reading.getresponse()
        body = answer.read()
        assert answer.status == 200, body
        parsed: dict[str, Any] = orjson.loads(body)
        return parsed

    # -- the readers: each returns (messageId, id, valid, accepted) of the calls it sees -------------

    def http_calls(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        page = self.get(f"/mockpipe/calls?writeKey={self.write_key}&userId={sent.user_id}")
        assert page["total"] == page["count"] == len(sent.message_ids)
        return [(c["messageId"], c["id"], c["valid"], c["accepted"]) for c in page["calls"]]

    def http_message_id(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        seen = []
        for message_id in sent.message_ids:
            (call,) = self.get(f"/mockpipe/calls?messageId={message_id}")["calls"]
            seen.append((call["messageId"], call["id"], call["valid"], call["accepted"]))
        return seen

    def http_wait(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        count = len(sent.message_ids)
        page = self.get(f"/mockpipe/calls/wait?userId={sent.user_id}&count={count}&timeout=0")
        assert page["timedOut"] is False and page["total"] == count
        return [(c["messageId"], c["id"], c["valid"], c["accepted"]) for c in page["calls"]]

    def journal_calls(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        calls = self.server.journal.calls(user_id=sent.user_id)
        return [(c.message_id or "", c.id, c.valid, c.accepted) for c in calls]

    def server_wait_for(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        result = self.server.wait_for(len(sent.message_ids), 0, user_id=sent.user_id)
        assert not result.timed_out
        return [(c.message_id or "", c.id, c.valid, c.accepted) for c in result.calls]

    def fixture_wait_for(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        # Filtered on the verdict too, as a test waiting for accepted (or refused) calls does.
        accepted = sent.kind.accepted
        result = self.view.wait_for(len(sent.message_ids), 0, raises=False, user_id=sent.user_id, accepted=accepted)
        assert not result.timed_out
        assert [c.message_id for c in self.view.records(user_id=sent.user_id)] == sent.message_ids
        return [(c.message_id or "", c.id, c.valid, c.accepted) for c in result.calls]

    def counted(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        assert self.server.journal.count(user_id=sent.user_id) == len(sent.message_ids)
        return self.journal_calls(sent)

    def people(self, sent: Sent) -> list[tuple[str, int, bool, bool]]:
        person = self.server.person(sent.user_id, write_key=self.write_key)
        # People are made of accepted calls only.
        assert (person is not None) == sent.kind.accepted, (sent, person)
        return self.journal_calls(sent)

    def readers(self) -> tuple[Callable[[Sent], list[tuple[str, int, bool, bool]]], ...]:
        return (
            self.http_calls,
            self.journal_calls,
            self.http_wait,
            self.server_wait_for,
            self.http_message_id,
            self.fixture_wait_for,
            self.counted,
            self.people,
        )

    def run(self, start: threading.Barrier) -> list[Sent]:
        readers = self.readers()
        start.wait()
        for number in range(REQUESTS_PER_THREAD):
            sent = self.send(number)
            # Kinds and readers cycle at co-prime lengths: every kind meets every reader.
            seen = readers[number % len(readers)](sent)
            expected = [(message_id, sent.kind.valid, sent.kind.accepted) for message_id in sent.message_ids]
            assert [(m, valid, accepted) for m, _, valid, accepted in seen] == expected, (sent, seen)
            sent.ids = [call_id for _, call_id, _, _ in seen]
        return self.sent


@dataclass(frozen=True, slots=True)
class Hammered:
    clients: list[Client]
    everything: list[Sent]  # every request of every thread


@pytest.fixture(scope="module")
def hammered() -> Iterator[Hammered]:
    """The race run once for the module's checks: the threads send and read at once, each asserting
    on what it reads right after each answer (a failed read fails every test of the module)."""
    with MockPipeServer() as server:
        clients = [Client(server, thread) for thread in range(THREADS)]
        try:
            start = threading.Barrier(len(clients))
            with ThreadPoolExecutor(len(clients)) as pool:
                futures = [pool.submit(client.run, start) for client in clients]
                everything = [sent for future in futures for sent in future.result()]
            yield Hammered(clients, everything)
        finally:
            for client in clients:
                client.close()


def test_every_call_is_visible_to_every_reader_as_soon_as_it_is_answered(hammered: Hammered) -> None:
    clients, everything = hammered.clients, hammered.everything
    assert len(everything) == THREADS * REQUESTS_PER_THREAD
    server = clients[0].server
    sent_calls = sum(len(sent.message_ids) for sent in everything)
    assert server.journal.count() == len(server.journal) == sent_calls

    # The ids read right after each answer are the calls' ids for good, and each names one call.
    final = {call.message_id: call.id for call in server.journal.calls()}
    assert len(set(final.values())) == sent_calls
    for sent in everything:
        assert sent.ids == [final[message_id] for message_id in sent.message_ids], sent


def test_call_ids_follow_the_order_of_the_answers(hammered: Hammered) -> None:
    clients, everything = hammered.clients, hammered.everything
    # On one connection: the calls of a write key come back in the order they were answered.
    for client in clients:
        page = client.get(f"/mockpipe/calls?writeKey={client.write_key}&limit=1000")
        assert [c["messageId"] for c in page["calls"]] == [m for sent in client.sent for m in sent.message_ids]
        ids = [c["id"] for c in page["calls"]]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Across connections: a request answered before another was sent has the lower ids.
    by_answer = sorted(everything, key=lambda sent: sent.answered_at)
    answered = [sent.answered_at for sent in by_answer]
    highest_so_far = list(accumulate((max(sent.ids) for sent in by_answer), max))
    for sent in everything:
        before = bisect_left(answered, sent.sent_at)  # the requests answered before this one left
        if before:
            assert highest_so_far[before - 1] < min(sent.ids), sent
