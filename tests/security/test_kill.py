"""kill -9 of `mockpipe serve --store` while clients send good calls and attackers send bad requests:
after a restart, every call that was answered 200 is in the store, and the store reads cleanly."""

from __future__ import annotations

import http.client
import socket
import threading
from typing import TYPE_CHECKING

import httpx
import orjson

from mockpipe.cli.inspection_client import InspectionClient
from tests.security.raw_http import basic
from tests.support.serve_process import ServeProcess

if TYPE_CHECKING:
    from pathlib import Path

HEADERS = {"Authorization": basic("k1"), "Content-Type": "application/json"}
ENOUGH = 300  # acknowledged calls before the kill

# What the attackers send, over and over, between the good calls.
BAD_REQUESTS = [
    b'POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"userId":',  # ends early
    b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{{{{{",  # not JSON
    b"GET /mockpipe/calls/" + b"9" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x00\x2e\x01\x00\x00\x2a\x03\x03" + b"\x00" * 40,  # a TLS hello
    b"GET /mockpipe/calls/wait?count=1000000&timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /mockpipe/faults HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]",  # refused: not an object
]


def test_every_acknowledged_call_survives_kill_9_under_attack(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()
    server = ServeProcess("--store", str(path))

    def good(thread: int) -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        for number in range(1_000_000):
            ids = [f"g{thread}-{number}-{item}" for item in range(1 + number % 4)]
            calls = [{"type": "track", "userId": "u1", "event": "Good", "messageId": m} for m in ids]
            body = orjson.dumps({"batch": calls} if len(calls) > 1 else calls[0])
            try:
                connection.request("POST", "/v1/batch" if len(calls) > 1 else "/v1/track", body, HEADERS)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):  # the server died under us
                connection.close()
                return
            if response.status == 200:
                with lock:
                    acknowledged.extend(ids)
                    if len(acknowledged) >= ENOUGH:
                        enough.set()

    def bad() -> None:
        number = 0
        while not stop.is_set():
            try:
                with socket.create_connection((server.host, server.port), timeout=2) as sock:
                    sock.sendall(BAD_REQUESTS[number % len(BAD_REQUESTS)])
                    sock.shutdown(socket.SHUT_WR)
                    sock.recv(1000)
            except OSError:
                if server.process.poll() is not None:
                    return
            number += 1

    threads = [threading.Thread(target=good, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=bad) for _ in range(2)]
    with server:
        for thread in threads:
            thread.start()
        assert enough.wait(60), "the good clients did not get going"
        server.kill()  # SIGKILL, mid-stream
        stop.set()
    for thread in threads:
        thread.join(30)

    with ServeProcess("--store", str(path)) as second:
        with InspectionClient(second.url) as client:
            stored = list(client.calls({"duplicates": "true"}))
        received = {call["payload"].get("messageId") for call in stored}
        missing = set(acknowledged) - received
        assert not missing, f"{len(missing)} acknowledged call(s) lost, e.g. {sorted(missing)[:5]}"
        for path_ in ("/mockpipe/calls", "/mockpipe/requests", "/mockpipe/people", "/mockpipe/health"):
            assert httpx.get(second.url + path_, timeout=10).status_code == 200, path_
        assert httpx.post(
            second.url + "/v1/track", content=b'{"userId":"u1","event":"After"}', headers=HEADERS
        ).is_success
        second.stop()
