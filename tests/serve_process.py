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
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockpipe", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()  # blocks until the server is up (or has died)
        found = _URL.search(first)
        if found is None:
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"mockpipe serve did not start: {first!r} {err}")
        self.url = found.group(1)
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "", parts.port or 0

    def kill(self) -> None:
        """SIGKILL: no chance to flush or close anything."""
        self.process.kill()
        self.process.communicate(timeout=10)

    def stop(self) -> str:
        """SIGTERM, as Ctrl-C would; returns what it printed after the start."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return out

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.kill()
