"""A file that is not a mockpipe store, or a damaged one, is refused before anything writes to it."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.journal.store import Store, StoreError
from mockpipe.journal.store_check import store_problem

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

PAGE = 4096  # SQLite's default page size, which a store keeps


def _text(path: Path) -> None:
    path.write_text("not a database, not even close\n" * 100)


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(20_000))


def _foreign(path: Path) -> None:
    db = sqlite3.connect(path)  # rollback-journal mode, as most SQLite files are
    with db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        db.executemany("INSERT INTO notes (text) VALUES (?)", [(f"note {n}",) for n in range(200)])
    db.close()


def _foreign_at_our_version(path: Path) -> None:
    _foreign(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 2")
    db.close()


def _store(path: Path, calls: int = 2000) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(b"k1:").decode()}
    batch = [{"type": "track", "userId": f"u{n}", "event": "E", "properties": {"x": "y" * 50}} for n in range(500)]
    with MockPipeServer(store=path) as server, httpx.Client() as client:
        for _ in range(calls // 500):
            answer = client.post(server.url_for("/v1/batch"), content=orjson.dumps({"batch": batch}), headers=auth)
            assert answer.status_code == 200


def _damaged(path: Path) -> None:
    """A store with a page in the middle of the file overwritten."""
    _store(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // PAGE // 2
    data[middle * PAGE : (middle + 1) * PAGE] = os.urandom(PAGE)
    path.write_bytes(bytes(data))


REFUSED: dict[str, tuple[Callable[[Path], None], str]] = {
    "text": (_text, "it is not an SQLite database"),
    "random bytes": (_random, "it is not an SQLite database"),
    "foreign SQLite": (_foreign, "is an SQLite database but not a mockpipe store"),
    "foreign SQLite at our version": (_foreign_at_our_version, "not a mockpipe store (no table 'requests')"),
    "damaged store": (_damaged, "the file is damaged"),
}


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


@pytest.mark.parametrize("case", REFUSED)
def test_serve_refuses_a_file_that_is_not_a_store_in_one_line_with_status_2_and_leaves_it_untouched(
    tmp_path: Path, case: str
) -> None:
    make, expected = REFUSED[case]
    path = tmp_path / "journal.db"
    make(path)
    before = _files(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mockpipe", "serve", "--port", "0", "--store", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
    assert done.stderr.startswith("mockpipe: ") and expected in done.stderr
    assert str(path) in done.stderr
    assert "listening" not in done.stdout
    assert _files(tmp_path) == before  # byte for byte, and no -wal, -shm or -journal file beside it


@pytest.mark.parametrize("case", REFUSED)
def test_the_server_and_a_reader_refuse_it_with_the_same_message(tmp_path: Path, case: str) -> None:
    make, expected = REFUSED[case]
    path = tmp_path / "journal.db"
    make(path)
    before = _files(tmp_path)
    with pytest.raises(StoreError, match=re.escape(expected)):
        MockPipeServer(store=path)
    with pytest.raises(StoreError, match=re.escape(expected)):
        Store(path, readonly=True)
    assert _files(tmp_path) == before


def test_a_new_an_empty_and_a_good_store_pass(tmp_path: Path) -> None:
    assert store_problem(tmp_path / "missing.db") is None
    (tmp_path / "empty.db").touch()
    assert store_problem(tmp_path / "empty.db") is None
    sqlite3.connect(tmp_path / "blank.db").close()  # a database with no table yet
    assert store_problem(tmp_path / "blank.db") is None
    _store(tmp_path / "good.db", calls=500)
    assert store_problem(tmp_path / "good.db") is None
    assert store_problem(tmp_path / "good.db", readonly=True) is None
    assert store_problem(tmp_path / "missing.db", readonly=True) == f"no store at {tmp_path / 'missing.db'}"
    assert "not a regular file" in str(store_problem(tmp_path))


def test_a_store_with_a_column_missing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    Store(path).close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("ALTER TABLE calls DROP COLUMN name")
    with pytest.raises(StoreError, match=r"table 'calls' lacks column\(s\) name"):
        Store(path)
