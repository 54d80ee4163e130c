"""Bodies that end early or trickle in, and idle connections, against a real server over raw sockets:
each is answered as any unreadable body and journaled, and none holds a connection without limit."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import orjson
import pytest

from mockpipe import MockPipeServer, ServerConfig
from mockpipe.emulator.app import create_app
from mockpipe.journal.journal import Journal, RequestRecord
from mockpipe.spec.rules import REJECTIONS

AUTH = base64.b64encode(b"k1:").decode()


def _head(server: MockPipeServer, length: int, *, strict: bool = False) -> bytes:
    lines = [
        "POST /v1/track HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Authorization: Basic {AUTH}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
    ]
    if strict:
        lines.append("X-Strict-Mode: 1")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_answer(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout` passes)."""
    sock.settimeout(timeout)
    received = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
    return received


def _requests_soon(server: MockPipeServer) -> list[RequestRecord]:
    """The journaled requests, once there is one: the server may close the connection before it journals."""
    deadline = time.monotonic() + 3
    while not server.requests() and time.monotonic() < deadline:
        time.sleep(0.02)
    return server.requests()


@pytest.fixture
def slow_server() -> Iterator[MockPipeServer]:
    with MockPipeServer(ServerConfig(body_timeout=0.5, keep_alive_timeout=0.5)) as server:
        yield server


@pytest.mark.parametrize(("strict", "status"), [(False, 200), (True, 400)])
def test_a_body_that_ends_early_is_answered_as_unreadable(strict: bool, status: int) -> None:
    journal = Journal()
    app = create_app(ServerConfig(strict=strict), journal=journal)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"userId":"u1","ev', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/track",
        "raw_path": b"/v1/track",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", f"Basic {AUTH}".encode()), (b"content-length", b"1000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == status
    answer = orjson.loads(sent[1]["body"])
    assert answer == {} if not strict else answer["code"] == "request.incomplete"
    (request,) = journal.requests()
    assert (request.accepted, request.reason, request.status, request.write_key) == (
        False,
        "request.incomplete",
        status,
        "k1",
    )
    assert "closed the connection" in (request.message or "")


@pytest.mark.parametrize("pause", [0.0, 0.05], ids=["end with the bytes", "end read on its own"])
@pytest.mark.parametrize(("strict", "status"), [(False, 200), (True, 400)])
def test_a_half_closed_body_gets_the_emulator_answer_and_is_journaled(strict: bool, status: int, pause: float) -> None:
    # With a pause the server reads the end of the stream on its own, after the bytes: Hypercorn's HTTP
    # layer (h11) used to answer that with an empty 400 of its own before mockpipe could answer.
    with MockPipeServer() as server:
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(_head(server, 1000, strict=strict) + b'{"userId":"u1","ev')
                time.sleep(pause)
                sock.shutdown(socket.SHUT_WR)  # the client half-closes: the rest never comes
                answer = _read_answer(sock, 5)
            assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer
            assert b"connection: close" in answer.lower()
            body = answer.partition(b"\r\n\r\n")[2]
            assert orjson.loads(body) == {} if not strict else orjson.loads(body)["code"] == "request.incomplete"
        requests = server.requests()
        assert [(r.accepted, r.reason, r.status, r.write_key) for r in requests] == [
            (False, "request.incomplete", status, "k1")
        ] * 5
        assert server.calls() == []


def test_a_chunked_body_cut_short_gets_the_emulator_answer() -> None:
    with MockPipeServer(strict=True) as server:
        head = _head(server, 0).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(head + b'5\r\n{"use\r\n')
            time.sleep(0.05)
            sock.shutdown(socket.SHUT_WR)
            answer = _read_answer(sock, 5)
        assert answer.startswith(b"HTTP/1.1 400 ") and b'"request.incomplete"' in answer, answer
        (request,) = server.requests()
        assert (request.reason, request.status) == ("request.incomplete", 400)


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_a_body_whose_client_closes_entirely_is_journaled(reset: bool) -> None:
    # No answer can reach a client that closed (or reset) its connection: the request is journaled all the same.
    with MockPipeServer() as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(_head(server, 1000) + b'{"userId":"u1","ev')
        time.sleep(0.05)
        if reset:  # SO_LINGER 0: the close sends RST, not FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        (request,) = _requests_soon(server)
        assert (request.accepted, request.reason, request.write_key) == (False, "request.incomplete", "k1")
        assert server.calls() == []
        assert server.is_running()


def test_a_body_trickled_a_byte_at_a_time_is_dropped_after_the_body_timeout(slow_server: MockPipeServer) -> None:
    body = b'{"userId":"u1","event":"Slow"}'
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
        sock.sendall(_head(slow_server, len(body)))
        started = time.monotonic()
        answer = b""
        sock.settimeout(0.1)
        for byte in body:  # ten bytes a second: the whole body would take three
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # the server closed the connection: what it answered is in the buffer
                break
            try:
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            if answer:
                break
        answer += _read_answer(sock, 3)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert elapsed < 2.5, f"the trickled body was waited for {elapsed:.1f} s"
    (request,) = _requests_soon(slow_server)
    assert (request.accepted, request.reason) == (False, "request.incomplete")
    assert "timed out" in (request.message or "")
    assert slow_server.calls() == []


def test_a_strict_server_answers_a_stalled_body_400(slow_server: MockPipeServer) -> None:
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
        sock.sendall(_head(slow_server, 100, strict=True) + b"{")
        answer = _read_answer(sock, 3)  # the connection is closed after the answer
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b'"request.incomplete"' in answer and b"timed out" in answer


def test_an_idle_keep_alive_connection_is_closed(slow_server: MockPipeServer) -> None:
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
        sock.sendall(f"GET /mockpipe/health HTTP/1.1\r\nHost: 127.0.0.1:{slow_server.port}\r\n\r\n".encode())
        started = time.monotonic()
        answer = _read_answer(sock, 4)  # ends when the server closes the idle connection
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert elapsed < 3, f"the idle connection stayed open {elapsed:.1f} s"


def test_a_whole_body_within_the_timeout_is_taken() -> None:
    with MockPipeServer(ServerConfig(body_timeout=0.5)) as server:
        body = b'{"userId":"u1","event":"Fine"}'
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(_head(server, len(body)) + body)
            sock.settimeout(5)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert [call.event for call in server.calls()] == ["Fine"]


def test_the_rejection_is_in_the_catalogue() -> None:
    assert REJECTIONS["request.incomplete"].status == 400


@pytest.mark.parametrize("value", [0, -1.0, float("nan")])
def test_timeouts_must_be_positive(value: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        ServerConfig(body_timeout=value)
    with pytest.raises(ValueError, match="positive"):
        ServerConfig(keep_alive_timeout=value)
