"""Is this file a mockpipe store in good order? Asked before anything writes to it.

`Store` opens a file read-write and switches it to WAL mode, which modifies it: a foreign database (or
a damaged store) must be refused before that. `store_problem` only reads: the file's header, then,
through a read-only connection, its schema version, its tables and `PRAGMA quick_check`; it returns one
line that names the file and what is wrong (None: a store, or a missing or empty file, where one is
made), which `Store` raises as `StoreError` (defined there: this module imports nothing of the store).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mockpipe.journal.schema import READABLE_VERSIONS, SCHEMA_VERSION, UPGRADES, table_columns

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
_HEADER_SIZE = 100


class _Refused(Exception):
    """The file is not a store this code can use; the message says why, in one line."""


def store_problem(path: Path, *, readonly: bool = False) -> str | None:
    """Why `path` cannot be used as a mockpipe store, in one line, or None if it can (reads it, writes nothing).

    A missing or empty file can, when not `readonly` (the store is made there); so can an SQLite
    database with no table at all (as `sqlite3.connect` leaves a new file)."""
    try:
        _check(path, readonly=readonly)
    except _Refused as refused:
        return str(refused)
    return None


def _check(path: Path, *, readonly: bool) -> None:
    if not path.exists():
        if readonly:
            raise _Refused(f"no store at {path}")
        return
    if not path.is_file():
        raise _Refused(f"cannot use {path} as a mockpipe store: not a regular file")
    try:
        with path.open("rb") as file:
            header = file.read(_HEADER_SIZE)
    except OSError as exc:
        raise _Refused(f"cannot use {path} as a mockpipe store: {exc.strerror or exc}") from None
    if not header and not readonly:
        return
    if len(header) < _HEADER_SIZE or not header.startswith(SQLITE_HEADER):
        raise _Refused(f"cannot use {path} as a mockpipe store: it is not an SQLite database")
    # Read-only; and with no WAL file beside it (no writer has it open, no crash left commits in one),
    # immutable too: SQLite then creates no -wal and -shm files next to a file that may not be ours.
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro{immutable}", uri=True)
    except sqlite3.Error as exc:
        raise _Refused(f"cannot use {path} as a mockpipe store: {exc}") from None
    try:
        _check_database(path, db, readonly=readonly)
    except sqlite3.Error as exc:
        raise _Refused(damaged(path, str(exc))) from None
    finally:
        db.close()


def _check_database(path: Path, db: sqlite3.Connection, *, readonly: bool) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = _table_names(db)
    if version == 0 and not tables and not readonly:
        return  # an empty database: made a store on opening
    if version == 0:
        raise _Refused(f"{path} is an SQLite database but not a mockpipe store")
    readable = READABLE_VERSIONS if readonly else (*UPGRADES, SCHEMA_VERSION)
    if version not in readable:
        if readonly:
            raise _Refused(
                f"{path} is not a mockpipe store of a version this mockpipe reads (schema version {version})"
            )
        raise _Refused(f"{path} is a store of schema version {version}; this mockpipe reads version {SCHEMA_VERSION}")
    for table, columns in table_columns(version).items():
        if table not in tables:
            raise _Refused(f"{path} is an SQLite database but not a mockpipe store (no table {table!r})")
        present = {row[0] for row in db.execute("SELECT name FROM pragma_table_info(?)", (table,))}
        missing = [column for column in columns if column not in present]
        if missing:
            raise _Refused(
                f"{path} is an SQLite database but not a mockpipe store "
                f"(table {table!r} lacks column(s) {', '.join(missing)})"
            )
    # The structure of every page (not the values in the rows: those are checked as they are read).
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise _Refused(damaged(path, "; ".join(problems)))


def _table_names(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {row[0] for row in rows}


def damaged(path: Path, detail: str) -> str:
    detail = " ".join(detail.split())  # one line, whatever SQLite says
    if len(detail) > 200:
        detail = detail[:200] + "..."
    return (
        f"cannot use {path} as a mockpipe store: the file is damaged ({detail}); "
        f"start with another --store, or recover what it holds with the sqlite3 shell's .recover"
    )
