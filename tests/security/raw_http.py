"""Raw HTTP/1.1 over a socket, for requests no well-behaved client sends: odd bytes, partial bodies,
half-closed connections, headers httpx refuses to build."""

from __future__ import annotations

import base64
import re
import socket
import time
from dataclasses import dataclass

_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


def basic(key: str) -> str:
    """The value of the Authorization header the server SDKs send for `key`."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@dataclass(frozen=True)
class Answer:
    """What came back: the status (None when the server closed without answering) and the bytes."""

    status: int | None
    raw: bytes

    @property
    def body(self) -> bytes:
        return self.raw.partition(b"\r\n\r\n")[2]


def request_bytes(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, *, host: str = "127.0.0.1"
) -> bytes:
    """One HTTP/1.1 request with `Connection: close` and a Content-Length (unless `headers` give one)."""
    sent = {"Host": host, "Connection": "close", **(headers or {})}
    if body and not any(name.lower() in ("content-length", "transfer-encoding") for name in sent):
        sent["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in sent.items())
    return head.encode("latin-1") + b"\r\n" + body


def exchange(
    address: tuple[str, int],
    data: bytes,
    *,
    half_close: bool = True,
    timeout: float = 10.0,
    pause: float = 0.0,
    split_at: int | None = None,
) -> Answer:
    """Send `data`, half-close (unless told not to), and read until the server closes or `timeout` passes.

    With `pause`, the bytes go in two parts that far apart (a client that stalls mid-request): the halves,
    or cut at `split_at` (`len(data)`: all the bytes, a pause, then the half-close)."""
    with socket.create_connection(address, timeout=timeout) as sock:
        if pause:
            cut = len(data) // 2 if split_at is None else split_at
            sock.sendall(data[:cut])
            time.sleep(pause)
            data = data[cut:]
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server may close before it has read all (an oversized request)
            pass
        return Answer(*_read_answer(sock, time.monotonic() + timeout))


def _read_answer(sock: socket.socket, deadline: float) -> tuple[int | None, bytes]:
    received = bytearray()
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except OSError:  # reset by the server after an answer
            break
        if not chunk:
            break
        received += chunk
    found = _STATUS.match(bytes(received))
    return (int(found.group(1)) if found else None), bytes(received)
