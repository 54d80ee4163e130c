"""Is this file a mockpipe store in good order? Asked before anything writes to it.

`Store` opens a file read-write and switches it to WAL mode, which modifies it: a foreign database (or
a damaged store) must be refused before that. `check_store_file` only reads: the file's header, then,
through a read-only connection, its schema version, its tables and `PRAGMA quick_check`. It raises
`StoreError` with one line that names the file and what is wrong; a missing or empty file is a new store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mockpipe.errors import MockpipeError
from mockpipe.journal.schema import READABLE_VERSIONS, SCHEMA_VERSION, UPGRADES, table_columns

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
_HEADER_SIZE = 100


class StoreError(MockpipeError):
    """The store file cannot be opened, is not a mockpipe store, or is of another schema version."""


class StoreLockedError(StoreError):
    """Another server (another process, or another `Store` of this one) is writing to the store file."""


def check_store_file(path: Path, *, readonly: bool = False) -> None:
    """Raise StoreError unless `path` holds a mockpipe store this code can use (reads it, writes nothing).

    A missing or empty file passes when not `readonly` (the store is made there); so does an SQLite
    database with no table at all (as `sqlite3.connect` leaves a new file)."""
    if not path.exists():
        if readonly:
            raise StoreError(f"no store at {path}")
        return
    if not path.is_file():
        raise StoreError(f"cannot use {path} as a mockpipe store: not a regular file")
    try:
        with path.open("rb") as file:
            header = file.read(_HEADER_SIZE)
    except OSError as exc:
        raise StoreError(f"cannot use {path} as a mockpipe store: {exc.strerror or exc}") from None
    if not header and not readonly:
        return
    if len(header) < _HEADER_SIZE or not header.startswith(SQLITE_HEADER):
        raise StoreError(f"cannot use {path} as a mockpipe store: it is not an SQLite database")
    # Read-only; and with no WAL file beside it (no writer has it open, no crash left commits in one),
    # immutable too: SQLite then creates no -wal and -shm files next to a file that may not be ours.
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro{immutable}", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot use {path} as a mockpipe store: {exc}") from None
    try:
        _check_database(path, db, readonly=readonly)
    except sqlite3.Error as exc:
        raise StoreError(damaged(path, str(exc))) from None
    finally:
        db.close()


def _check_database(path: Path, db: sqlite3.Connection, *, readonly: bool) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = _table_names(db)
    if version == 0 and not tables and not readonly:
        return  # an empty database: made a store on opening
    if version == 0:
        raise StoreError(f"{path} is an SQLite database but not a mockpipe store")
    readable = READABLE_VERSIONS if readonly else (*UPGRADES, SCHEMA_VERSION)
    if version not in readable:
        if readonly:
            raise StoreError(
                f"{path} is not a mockpipe store of a version this mockpipe reads (schema version {version})"
            )
        raise StoreError(f"{path} is a store of schema version {version}; this mockpipe reads version {SCHEMA_VERSION}")
    for table, columns in table_columns(version).items():
        if table not in tables:
            raise StoreError(f"{path} is an SQLite database but not a mockpipe store (no table {table!r})")
        present = {row[0] for row in db.execute("SELECT name FROM pragma_table_info(?)", (table,))}
        missing = [column for column in columns if column not in present]
        if missing:
            raise StoreError(
                f"{path} is an SQLite database but not a mockpipe store "
                f"(table {table!r} lacks column(s) {', '.join(missing)})"
            )
    # The structure of every page (not the values in the rows: those are checked as they are read).
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise StoreError(damaged(path, "; ".join(problems)))


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
