"""Store files that are not a mockpipe store, or are damaged: `mockpipe serve --store` refuses them with
a one-line error and exit status 2, and leaves the file as it was, byte for byte (issue 13)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx

from mockpipe import MockPipeServer
from tests.security.raw_http import basic

if TYPE_CHECKING:
    from pathlib import Path

STORE = "issue 13: store files refused untouched with a one-line error"


def _serve(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockpipe", "serve", "--port", "0", "--store", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def _refused_untouched(path: Path) -> None:
    before = path.read_bytes()
    result = _serve(path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # no traceback
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        db.execute("INSERT INTO users VALUES (1, 'someone@example.com')")
    db.close()
    _refused_untouched(path)


def test_a_store_damaged_in_the_middle_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with MockPipeServer(store=path) as server, httpx.Client(base_url=server.url) as http:
        calls = [{"type": "track", "userId": "u1", "event": "E", "properties": {"pad": "x" * 500}}] * 200
        assert http.post("/v1/batch", json={"batch": calls}, headers={"Authorization": basic("k1")}).is_success
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = b"\xde\xad\xbe\xef" * 1024
    path.write_bytes(bytes(data))
    _refused_untouched(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a database at all\n" * 100)
    result = _serve(path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == b"not a database at all\n" * 100
