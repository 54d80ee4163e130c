"""What the commands that write to standard output share: a quiet end when the reader goes away."""

from __future__ import annotations

import os
import sys


def reader_left() -> None:
    """`mockpipe calls | head`: the reader is gone; end quietly, without a traceback at exit.

    Standard output is pointed at /dev/null, so the interpreter's last flush has nowhere to fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
