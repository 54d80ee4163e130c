"""`--mockpipe-record DIR`: the calls of each failed test as JSON lines, one file per test (CI artifacts)."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from mockpipe.journal.journal import Call, Journal

MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def recording_name(nodeid: str) -> str:
    """A file name for a test: its node id made safe (`tests/test_a.py::test_b[x]` ->
    `tests_test_a.py__test_b_x_-1a2b3c4d.jsonl`); the hash keeps ids that read alike apart."""
    readable = _UNSAFE.sub("_", nodeid).strip("_.")[:MAX_NAME]
    digest = hashlib.sha1(nodeid.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{readable}-{digest}.jsonl"


def write_recording(directory: Path, nodeid: str, calls: Iterable[tuple[Journal, Call]]) -> Path:
    """Write one line per call (`Call.to_dict()`, resends included) and return the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / recording_name(nodeid)
    from mockpipe.relay.recording import call_line  # the emulator loads when a recording is written

    path.write_bytes(b"".join(call_line(call, attempts=journal.attempts(call.id)) for journal, call in calls))
    return path
