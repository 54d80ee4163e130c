"""Progress of a long start: `serve --store` restoring a large store tells how far it is, on stderr.

A plain line at most once a second, once the restore has taken a second (a small store says nothing):
the same in a terminal, a log file or CI, where a line rewritten with carriage returns would not be.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable

INTERVAL = 1.0  # seconds: before the first line, and between lines


class RestoreProgress:
    """A `Store.restore` progress callback: `progress(done, total)`."""

    def __init__(
        self,
        path: object,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = INTERVAL,
    ) -> None:
        self.path = path
        self.stream = stream
        self.clock = clock
        self.interval = interval
        self.started = clock()
        self.last = self.started
        self.lines = 0

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        finished = done >= total
        if now - self.started < self.interval or (now - self.last < self.interval and not finished):
            return
        self.last = now
        if finished:
            line = f"mockpipe: restored {done:,} call(s) from {self.path} in {now - self.started:.1f} s"
        else:
            share = done * 100 // total if total else 100
            line = f"mockpipe: restoring {self.path}: {done:,} of {total:,} call(s) ({share}%)"
        print(line, file=self.stream or sys.stderr, flush=True)
        self.lines += 1
