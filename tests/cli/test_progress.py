"""`serve --store` tells how far a long restore is: a line a second on stderr, nothing for a quick one."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import httpx
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli.progress import RestoreProgress
from mockpipe.journal import store as store_module
from mockpipe.journal.journal import Journal
from mockpipe.journal.store import Store

if TYPE_CHECKING:
    from pathlib import Path


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_quick_restore_says_nothing_and_a_slow_one_a_line_a_second() -> None:
    clock, out = _Clock(), io.StringIO()
    progress = RestoreProgress("journal.db", stream=out, clock=clock)
    progress(10_000, 30_000)
    clock.now += 0.5
    progress(30_000, 30_000)
    assert out.getvalue() == ""  # done within a second

    clock, out = _Clock(), io.StringIO()
    progress = RestoreProgress("journal.db", stream=out, clock=clock)
    for done in range(10_000, 300_001, 10_000):
        clock.now += 0.25
        progress(done, 300_000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "mockpipe: restoring journal.db: 40,000 of 300,000 call(s) (13%)"
    assert len(lines) == 8  # 7.5 s: one a second, and the last
    assert lines[-1] == "mockpipe: restored 300,000 call(s) from journal.db in 7.5 s"


def test_the_store_reports_progress_as_it_restores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "journal.db"
    batch = {"batch": [{"type": "track", "userId": "u1", "event": f"E{n}"} for n in range(25)]}
    with MockPipeServer(store=path) as server:
        httpx.post(server.url_for("/v1/batch"), json=batch, headers={"Authorization": "Basic azE6"}).raise_for_status()
    monkeypatch.setattr(store_module, "PROGRESS_EVERY", 10)
    told: list[tuple[int, int]] = []
    with Store(path) as store:
        store.restore(Journal(), progress=lambda done, total: told.append((done, total)))
    assert told == [(10, 25), (20, 25), (25, 25)]
