"""`mockpipe serve` as a child process, for the tests that need a real process (kill -9, CLI options)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from types import TracebackType

_URL = re.compile(r"listening on (http://\S+)")


class ServeProcess:
    """Starts `python -m mockpipe serve --port 0 ARGS...` and reads back its URL from the first line it prints."""

    def __init__(self, *args: str, cwd: str | None = None) -> None:
        # Unbuffered bytes: the first line is read byte by byte, so that what follows it stays in the
        # pipe for stop() (a buffered reader would take it, and communicate() would never see it).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockpipe", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            cwd=cwd,
        )
        first = self._first_line()  # blocks until the server is up (or has died)
        found = _URL.search(first)
        if found is None:
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"mockpipe serve did not start: {first!r} {err.decode()}")
        self.url = found.group(1)
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "", parts.port or 0

    def _first_line(self) -> str:
        assert self.process.stdout is not None
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = self.process.stdout.read(1)
            if not byte:
                break
            line += byte
        return line.decode()

    def kill(self) -> None:
        """SIGKILL: no chance to flush or close anything."""
        self.process.kill()
        self.process.communicate(timeout=10)

    def stop(self) -> str:
        """SIGTERM, as Ctrl-C would; returns what it printed after its first line."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return out.decode()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.kill()
