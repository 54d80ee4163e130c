"""The servers `mockpipe bench` compares, each run in a process of its own on one Hypercorn worker.

- `bare`: a Starlette app that reads the body and answers `{}` (what any server costs);
- `naive`: the same, plus `json.loads` and `list.append` (a recorder that checks nothing);
- `mockpipe`: the emulator itself, from `create_app`;
- the peers of `mockpipe.bench.peers` where installed (pytest-httpserver here too, WireMock in a JVM).

`python -m mockpipe.bench.targets NAME` binds a free port of 127.0.0.1, prints `READY <port>` once
the app has started, and serves until SIGTERM. `TargetProcess` starts one and reads its memory
and CPU time from /proc; `start_target` starts any server, peers included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from mockpipe.bench.loadgen import process_rss_bytes, stop_child
from mockpipe.bench.peers import PEERS, WireMockProcess, serve_httpserver
from mockpipe.emulator.app import create_app
from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.server import hypercorn_config, listen_socket, serve_app
from mockpipe.errors import MockpipeError
from mockpipe.journal.journal import Journal

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.requests import Request

TARGETS = {
    "bare": "bare Starlette",
    "naive": "naive recorder",
    "mockpipe": "mockpipe",
}
# Every server of a run, ours and the peers, in the order of the report's columns.
LABELS = TARGETS | PEERS
HOST = "127.0.0.1"
READY = "READY"


class TargetError(MockpipeError):
    """A benchmark server did not start, or died."""


def _plain_app(endpoint: Callable[[Request], Any], on_ready: Callable[[], None]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        on_ready()
        yield

    return Starlette(routes=[Route("/v1/{endpoint}", endpoint, methods=["POST"])], lifespan=lifespan)


def bare_app(on_ready: Callable[[], None]) -> Starlette:
    """Reads the body and answers `{}`: the floor any Starlette server on Hypercorn stands on."""

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response(b"{}", media_type="application/json")

    return _plain_app(endpoint, on_ready)


def naive_app(on_ready: Callable[[], None]) -> Starlette:
    """Keeps every body as parsed JSON in a list: checks nothing, and keeps a tree of objects."""
    recorded: list[Any] = []

    async def endpoint(request: Request) -> Response:
        recorded.append(json.loads(await request.body()))
        return Response(b"{}", media_type="application/json")

    return _plain_app(endpoint, on_ready)


def mockpipe_app(on_ready: Callable[[], None], *, max_calls: int | None = None) -> Starlette:
    # Only reads process what was answered: no work while a peer is measured (the bench times the reads).
    config = ServerConfig(host=HOST, max_calls=max_calls, process_when_idle=False)
    return create_app(config, Journal(max_calls=max_calls), on_ready=on_ready)


def serve(name: str, *, max_calls: int | None = None) -> None:
    """Serve target `name` on a free port until SIGTERM, announcing `READY <port>` on stdout."""
    if name == "pytest-httpserver":
        serve_httpserver(lambda port: print(f"{READY} {port}", flush=True))
        return
    sock = listen_socket(HOST, 0)
    port = sock.getsockname()[1]

    def announce() -> None:
        print(f"{READY} {port}", flush=True)

    if name == "bare":
        app = bare_app(announce)
    elif name == "naive":
        app = naive_app(announce)
    else:
        app = mockpipe_app(announce, max_calls=max_calls)
    asyncio.run(_serve_until_terminated(app, sock))


async def _serve_until_terminated(app: Starlette, sock: socket.socket) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await serve_app(app, hypercorn_config(sock), stop.wait)


class TargetProcess:
    """One benchmark server in a child process."""

    START_TIMEOUT = 30.0

    def __init__(self, name: str, *, max_calls: int | None = None) -> None:
        if name not in TARGETS and name != "pytest-httpserver":
            raise ValueError(f"unknown target {name!r}; known: {', '.join(TARGETS)}, pytest-httpserver")
        self.name = name
        command = [sys.executable, "-m", "mockpipe.bench.targets", name]
        if max_calls is not None:
            command += ["--max-calls", str(max_calls)]
        # stderr goes to a file: a pipe nobody reads would block a server that logs a lot.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr)
        self.port = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = START_TIMEOUT) -> TargetProcess:
        """Block until the server announces its port; raises `TargetError` if it dies or hangs."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    self.stop()
                    raise TargetError(f"benchmark server {self.name!r} did not start within {timeout} s")
                chunk = os.read(self.process.stdout.fileno(), 1)
                if not chunk:
                    err = self.stop()
                    raise TargetError(f"benchmark server {self.name!r} exited: {err[-2000:]}")
                line += chunk
        word, _, port = line.decode().strip().partition(" ")
        if word != READY or not port.isdigit():
            self.stop()
            raise TargetError(f"benchmark server {self.name!r} said {line!r}")
        self.port = int(port)
        return self

    def rss_bytes(self) -> int:
        """Resident memory of the server now (0 where /proc cannot tell)."""
        return process_rss_bytes(self.pid)

    def stop(self, timeout: float = 10.0) -> str:
        """Stop the server (SIGTERM, then SIGKILL); returns what it wrote on stderr."""
        return stop_child(self.process, self._stderr, timeout)

    def __enter__(self) -> TargetProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_target(name: str, *, max_calls: int | None = None) -> TargetProcess | WireMockProcess:
    """Start server `name` (ours or a peer) in a child process; `wait_ready()` before driving it."""
    if name == "wiremock":
        return WireMockProcess(name, max_calls=max_calls)
    return TargetProcess(name, max_calls=max_calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mockpipe.bench.targets")
    parser.add_argument("target", choices=sorted([*TARGETS, "pytest-httpserver"]))
    parser.add_argument("--max-calls", type=int, default=None)
    args = parser.parse_args(argv)
    serve(args.target, max_calls=args.max_calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
