"""Run a command with one of its streams on a pseudo-terminal, as a person at a terminal would."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(*args: str, stream: str = "stdout", columns: int = 150, timeout: float = 60) -> tuple[int, str]:
    """Runs `python -m mockpipe ARGS` with `stream` ("stdout" or "stderr") on a terminal of `columns`;
    returns its exit status and what it wrote there (escapes included)."""
    main, secondary = pty.openpty()
    env = dict(os.environ, COLUMNS=str(columns), TERM="xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "COLORTERM", "TTY_COMPATIBLE"):
        env.pop(name, None)
    other = subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "mockpipe", *args],
        stdin=subprocess.DEVNULL,
        stdout=secondary if stream == "stdout" else other,
        stderr=secondary if stream == "stderr" else other,
        env=env,
    )
    os.close(secondary)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = process.wait(timeout)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()
    return status, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def plain(text: str) -> str:
    """The text without its terminal escapes."""
    return ANSI.sub("", text)
