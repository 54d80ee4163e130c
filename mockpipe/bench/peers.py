"""The optional peers of `mockpipe bench`: other local mock servers, run beside mockpipe where installed.

- `pytest-httpserver` (pip; in the dev dependency group): werkzeug, one thread, a permanent expectation
  per tracking path answering `{}`, every request kept in its log;
- `wiremock`: WireMock standalone (the npm package `wiremock` ships its jar; Java on PATH), a stub per
  tracking path answering `{}`, its request journal on. `.ci/install-bench-peers.sh` installs it under
  `bench_home()`; `MOCKPIPE_WIREMOCK_JAR` names another jar.

Both only keep bytes: they check nothing. `unavailable(name)` says why a peer cannot run here
(None: it can); the benchmark skips it with that reason.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from mockpipe.bench.loadgen import process_rss_bytes, stop_child
from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Callable

PEERS = {"pytest-httpserver": "pytest-httpserver", "wiremock": "WireMock"}
PATHS = ("/v1/track", "/v1/batch")
HOST = "127.0.0.1"
INSTALL_HINT = "bash .ci/install-bench-peers.sh"


class PeerError(MockpipeError):
    """A peer did not start, or died."""


def bench_home() -> Path:
    """Where the peers are installed, outside any repository."""
    configured = os.environ.get("MOCKPIPE_BENCH_HOME")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "mockpipe-bench"


def wiremock_jar() -> Path | None:
    """The WireMock standalone jar: `MOCKPIPE_WIREMOCK_JAR`, else the one the install script put under
    `bench_home()`."""
    configured = os.environ.get("MOCKPIPE_WIREMOCK_JAR")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    found = sorted((bench_home() / "node" / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    return found[-1] if found else None


def unavailable(name: str) -> str | None:
    """Why peer `name` cannot run here, or None when it can."""
    if name == "pytest-httpserver":
        if importlib.util.find_spec("pytest_httpserver") is None:
            return "pytest-httpserver is not installed (pip install pytest-httpserver; it is in the dev group)"
        return None
    if name == "wiremock":
        if shutil.which("java") is None:
            return "java is not on PATH (WireMock runs on the JVM)"
        if wiremock_jar() is None:
            where = os.environ.get("MOCKPIPE_WIREMOCK_JAR") or str(bench_home())
            return f"no WireMock standalone jar in {where} (install it with `{INSTALL_HINT}`)"
        return None
    return f"unknown peer {name!r}; known: {', '.join(PEERS)}"


# -- pytest-httpserver, served in the target process (`python -m mockpipe.bench.targets pytest-httpserver`)


def serve_httpserver(announce: Callable[[int], None]) -> None:
    """Serve pytest-httpserver on a free port of 127.0.0.1 until SIGTERM; `announce(port)` once it listens."""
    import logging

    from pytest_httpserver import HTTPServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = HTTPServer(host=HOST, port=0)
    for path in PATHS:
        server.expect_request(path, method="POST").respond_with_data(b"{}", content_type="application/json")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    try:
        announce(server.port)
        stop.wait()
    finally:
        server.stop()


# -- WireMock, a JVM of its own --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wiremock_root(folder: Path) -> Path:
    """A WireMock root directory with a stub per tracking path (any body, answered `{}`)."""
    mappings = folder / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    for path in PATHS:
        stub = {
            "request": {"method": "POST", "url": path},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"},
        }
        (mappings / f"{path.rsplit('/', 1)[1]}.json").write_bytes(orjson.dumps(stub))
    return folder


class WireMockProcess:
    """WireMock standalone in a child JVM, with the interface of `mockpipe.bench.targets.TargetProcess`."""

    START_TIMEOUT = 120.0  # a cold JVM on a loaded machine

    def __init__(self, name: str = "wiremock", *, max_calls: int | None = None) -> None:
        jar = wiremock_jar()
        if jar is None:
            raise PeerError(unavailable("wiremock") or "no WireMock jar")
        self.name = name
        self.port = _free_port()  # WireMock takes a port number: a free one, released just before
        self._folder = tempfile.TemporaryDirectory(prefix="mockpipe-wiremock-")
        root = wiremock_root(Path(self._folder.name))
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        command = ["java", "-jar", str(jar), "--port", str(self.port), "--bind-address", HOST]
        command += ["--root-dir", str(root), "--disable-banner"]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = START_TIMEOUT) -> WireMockProcess:
        """Block until WireMock answers its health check; raises `PeerError` if it dies or hangs."""
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PeerError(f"WireMock exited ({self.process.returncode}): {self.stop()[-2000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                try:
                    connection.request("GET", "/__admin/health")
                    if connection.getresponse().status == 200:
                        return self
                finally:
                    connection.close()
            time.sleep(0.2)
        self.stop()
        raise PeerError(f"WireMock did not start within {timeout:g} s")

    def rss_bytes(self) -> int:
        return process_rss_bytes(self.pid)

    def stop(self, timeout: float = 10.0) -> str:
        """Stop the JVM (SIGTERM, then SIGKILL); returns what it logged."""
        logged = stop_child(self.process, self._log, timeout)
        self._folder.cleanup()
        return logged

    def __enter__(self) -> WireMockProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
