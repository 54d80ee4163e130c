"""The persistent journal: every request and call kept in an SQLite file, across restarts and crashes.

The store is a journal listener: it writes each request and its calls in one transaction, which the
journal runs before the response is sent, so a call answered 200 is already in the file. At startup
`open_journal` reloads the file into a fresh `Journal` (same ids; new ids continue after them).

Durability: WAL mode with `synchronous=NORMAL` (the default). A commit is in the WAL file, that is in
the operating system's hands, before the listener returns: a `kill -9` the next instant loses nothing.
Only an OS crash or a power cut can take back the last commits; `synchronous="full"` prevents that
too with an fsync per request, at a cost the README measures.

One writer per file: a writable store holds an exclusive `flock` on the database file while it is
open, so a second server on the same file is refused at startup instead of failing every write
(its ids would collide). The kernel drops the lock with the process, so a `kill -9` leaves nothing
behind. It is advisory and local: SQLite's own locks are POSIX locks, which flock does not touch,
and readers (`mockpipe export --store`) take none.

Forward status (`serve --store --forward URL`): the calls a forwarder will relay are marked pending
in the same transaction as the calls themselves, and marked delivered or failed once the destination
has answered, so that a restart with the same `--forward` sends again what a crash left pending (at
least once: a call delivered just before a crash, its mark not yet written, goes twice, with its
messageId, which the service uses to drop the copy).
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.errors import MockpipeError
from mockpipe.journal.journal import Journal
from mockpipe.journal.records import CALL_FIELDS, REQUEST_FIELDS, Call, RequestRecord
from mockpipe.spec.rules import Violation

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

log = logging.getLogger("mockpipe.journal.store")

SCHEMA_VERSION = 2  # PRAGMA user_version of a store this code writes (and upgrades to)
READABLE_VERSIONS = (1, 2)  # what it reads without upgrading (1: no forward status)
SYNCHRONOUS = ("normal", "full")

# Added by schema version 2.
_FORWARDS = """
-- The forward status of the calls forwarded to `url`; `detail`: the status as the journal shows it (JSON).
CREATE TABLE forwards (call_id INTEGER PRIMARY KEY, url TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX forwards_pending ON forwards (url) WHERE status = 'pending';
"""

# The SQL type of each column: one per field of the record, same names (checked below). A field added
# to a record needs its column here and a step in _UPGRADES that adds it to existing stores.
_REQUEST_COLUMNS = {
    "id": "INTEGER PRIMARY KEY",
    "received_at": "TEXT NOT NULL",
    "method": "TEXT NOT NULL",
    "path": "TEXT NOT NULL",
    "write_key": "TEXT",
    "auth": "TEXT",
    "status": "INTEGER NOT NULL",
    "accepted": "INTEGER NOT NULL",
    "reason": "TEXT",
    "message": "TEXT",
    "violations": "TEXT NOT NULL",
    "call_ids": "TEXT NOT NULL",
    "size": "INTEGER NOT NULL",
    "content_encoding": "TEXT",
    "user_agent": "TEXT",
    "retry_count": "TEXT",
    "body": "BLOB",
    "fault": "TEXT",
}
_CALL_COLUMNS = {
    "id": "INTEGER PRIMARY KEY",
    "request_id": "INTEGER NOT NULL",
    "write_key": "TEXT NOT NULL",
    "type": "TEXT NOT NULL",
    "received_at": "TEXT NOT NULL",
    "region": "TEXT NOT NULL",
    "path": "TEXT NOT NULL",
    "valid": "INTEGER NOT NULL",
    "accepted": "INTEGER NOT NULL",
    "violations": "TEXT NOT NULL",
    "message_id": "TEXT NOT NULL",
    "user_id": "TEXT",
    "anonymous_id": "TEXT",
    "event": "TEXT",
    "name": "TEXT",
    "raw": "BLOB NOT NULL",
    "duplicate_of": "INTEGER",
}
for _columns, _fields in ((_REQUEST_COLUMNS, REQUEST_FIELDS), (_CALL_COLUMNS, CALL_FIELDS)):
    if set(_columns) != set(_fields):  # a record changed without its table: fail at import, not on write
        raise RuntimeError(f"store columns {sorted(set(_columns) ^ set(_fields))} do not match the record fields")


def _table(name: str, columns: dict[str, str]) -> str:
    return f"CREATE TABLE {name} ({', '.join(f'{column} {kind}' for column, kind in columns.items())});"


_SCHEMA = (
    _table("requests", _REQUEST_COLUMNS)
    + _table("calls", _CALL_COLUMNS)
    + """
-- The highest ids ever given, so that ids are not reused after a clear and a restart.
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
    + _FORWARDS
)
_UPGRADES = {1: _FORWARDS}  # schema version -> what makes it the next one
_INSERT_FORWARD = "INSERT OR REPLACE INTO forwards VALUES (?, ?, ?, ?)"
_UPDATE_FORWARD = "UPDATE forwards SET status = ?, detail = ? WHERE call_id = ? AND url = ?"
PENDING = "pending"


def _insert(table: str, columns: tuple[str, ...]) -> str:
    """An INSERT naming every column, with a named placeholder each (`:column`)."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + column for column in columns)})"


_INSERT_REQUEST = _insert("requests", REQUEST_FIELDS)
_INSERT_CALL = _insert("calls", CALL_FIELDS)
_NO_VIOLATIONS = "[]"


class StoreError(MockpipeError):
    """The store file cannot be opened, is not a mockpipe store, or is of another schema version."""


class StoreLockedError(StoreError):
    """Another server (another process, or another `Store` of this one) is writing to the store file."""


class Store:
    """One SQLite file holding a journal. Thread-safe; one server per file at a time.

    Raises `StoreError` from the constructor when the file cannot be used. `close()` releases the
    file; a later write or read opens it again (a `MockPipeServer` may be stopped and restarted).
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "normal", readonly: bool = False) -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, not {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous
        self.readonly = readonly
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._file_lock: weakref.finalize[[int], Store] | None = None
        # (url, status_of): the forward status of each call written from now on, None for a call not forwarded
        self._forwarding: tuple[str, Callable[[Call], dict[str, Any] | None]] | None = None
        with self._lock:
            self._connection()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {str(self.path)!r} synchronous={self.synchronous}>"

    # -- connection ----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """The open connection, opened (and the schema made) on first use. Call with the lock held."""
        if self._db is not None:
            return self._db
        if not self.readonly:
            self._lock_file()
        try:
            if self.readonly:
                if not self.path.is_file():
                    raise StoreError(f"no store at {self.path}")
                db = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            else:
                db = sqlite3.connect(self.path, check_same_thread=False)
            try:
                self._prepare(db)
            except BaseException:
                db.close()
                raise
        except BaseException as exc:
            self._unlock_file()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot use {self.path} as a mockpipe store: {exc}") from exc
            raise
        self._db = db
        return db

    def _lock_file(self) -> None:
        """Take the exclusive lock of a writer, or raise StoreLockedError. Call with the lock held."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes
        except OSError as exc:
            raise StoreError(f"cannot use {self.path} as a mockpipe store: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if isinstance(exc, BlockingIOError):
                raise StoreLockedError(
                    f"{self.path} is in use by another mockpipe (one server per store): stop that one, "
                    f"or pass another --store"
                ) from None
            raise StoreError(f"cannot lock {self.path}: {exc}") from exc
        # Released by close(), or when a store that was never closed is collected (no warning, unlike a file object).
        self._file_lock = weakref.finalize(self, os.close, fd)

    def _unlock_file(self) -> None:
        if self._file_lock is not None:
            self._file_lock()  # closing the descriptor releases the flock
            self._file_lock = None

    def _prepare(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if self.readonly:
            if version not in READABLE_VERSIONS:
                raise StoreError(
                    f"{self.path} is not a mockpipe store of a version this mockpipe reads (schema version {version})"
                )
            return
        # WAL: readers (`mockpipe export --store`) never block the server, and a commit is one append.
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise StoreError(f"{self.path}: SQLite refused WAL mode (got {mode!r})")
        db.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
        if version == 0:
            if db.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
                raise StoreError(f"{self.path} is an SQLite database but not a mockpipe store")
            db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        elif version in _UPGRADES:
            db.executescript(f"BEGIN; {_UPGRADES[version]} PRAGMA user_version={version + 1}; COMMIT;")
            self._prepare(db)  # the next upgrade, if any
        elif version != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} is a store of schema version {version}; this mockpipe reads version {SCHEMA_VERSION}"
            )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()  # before the lock goes: no other writer while this one may still commit
                self._db = None
            self._unlock_file()

    # -- writing (journal listeners) -------------------------------------------------------------

    def write(self, request: RequestRecord, calls: Sequence[Call]) -> None:
        """Keep one request and its calls, and their forward status, in one transaction (the journal listener)."""
        with self._lock:
            db = self._connection()
            with db:
                db.execute(_INSERT_REQUEST, _request_row(request))
                if calls:
                    db.executemany(_INSERT_CALL, map(_call_row, calls))
                    if self._forwarding is not None:
                        url, status_of = self._forwarding
                        db.executemany(
                            _INSERT_FORWARD,
                            [
                                (call.id, url, detail["status"], orjson.dumps(detail).decode())
                                for call in calls
                                if (detail := status_of(call)) is not None
                            ],
                        )

    def clear(self, write_key: str | None = None) -> None:
        """Delete every call and request, or those of one write key (the journal's clear listener)."""
        with self._lock:
            db = self._connection()
            with db:
                for table, key in (("calls", "last_call_id"), ("requests", "last_request_id")):
                    db.execute(
                        f"INSERT INTO meta SELECT ?, max(id) FROM {table} WHERE true HAVING max(id) NOT NULL "
                        "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                        (key,),
                    )
                if write_key is None:
                    db.execute("DELETE FROM calls")
                    db.execute("DELETE FROM requests")
                else:
                    db.execute("DELETE FROM calls WHERE write_key = ?", (write_key,))
                    db.execute("DELETE FROM requests WHERE write_key = ?", (write_key,))
                db.execute("DELETE FROM forwards WHERE call_id NOT IN (SELECT id FROM calls)")

    def attach(self, journal: Journal) -> None:
        """Keep everything `journal` records and clears from now on."""
        journal.subscribe(self.write, durable=True)
        journal.on_clear(self.clear)

    # -- forward status ----------------------------------------------------------------------------

    def track_forwards(self, url: str, status_of: Callable[[Call], dict[str, Any] | None]) -> None:
        """From now on, keep with each call written the forward status `status_of(call)` gives for
        `url` (a dict with at least "status"; None: the call is not forwarded)."""
        with self._lock:
            self._forwarding = (url, status_of)

    def update_forwards(self, url: str, statuses: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Keep the new status of calls forwarded to `url`, in one transaction. A store closed meanwhile
        (its server stopped) is not reopened: those calls stay pending, to be sent again."""
        rows = [(detail["status"], orjson.dumps(detail).decode(), call_id, url) for call_id, detail in statuses]
        with self._lock:
            if self._db is None:
                log.warning("store %s closed: %d forward status(es) not kept", self.path, len(rows))
                return
            with self._db as db:
                db.executemany(_UPDATE_FORWARD, rows)

    def forwards(self, url: str) -> list[tuple[int, dict[str, Any]]]:
        """The forward status of each call forwarded to `url`, by call id."""
        with self._lock:
            rows = (
                self._connection()
                .execute("SELECT call_id, detail FROM forwards WHERE url = ? ORDER BY call_id", (url,))
                .fetchall()
            )
        return [(call_id, orjson.loads(detail)) for call_id, detail in rows]

    def pending_forwards(self, url: str) -> list[Call]:
        """The calls still to forward to `url`, oldest first."""
        with self._lock:
            rows = _by_name(self._connection()).execute(
                "SELECT calls.* FROM forwards JOIN calls ON calls.id = forwards.call_id "
                "WHERE forwards.url = ? AND forwards.status = ? ORDER BY calls.id",
                (url, PENDING),
            )
            return [_call(row) for row in rows]

    def pending_forward_counts(self) -> dict[str, int]:
        """How many calls are still to forward, by destination URL."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT url, count(*) FROM forwards JOIN calls ON calls.id = forwards.call_id "
                    "WHERE forwards.status = ? GROUP BY url ORDER BY url",
                    (PENDING,),
                )
                .fetchall()
            )
        return dict(rows)

    # -- reading -------------------------------------------------------------------------------

    def restore(self, journal: Journal, *, max_calls: int | None = None) -> int:
        """Load the stored records into `journal` (the newest `max_calls` calls and requests if
        given); returns how many calls were loaded."""
        limit = -1 if max_calls is None else max_calls
        with self._lock:
            db = self._connection()
            # One read transaction: the calls and the requests are of the same moment.
            with db:
                db.execute("BEGIN")
                calls = list(self._rows(db, "calls", limit, _call))
                requests = list(self._rows(db, "requests", limit, _request))
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        journal.restore(
            requests, calls, last_request_id=meta.get("last_request_id", 0), last_call_id=meta.get("last_call_id", 0)
        )
        return len(calls)

    @staticmethod
    def _rows(db: sqlite3.Connection, table: str, limit: int, make: Any) -> Iterator[Any]:
        # The newest `limit` rows, oldest first (-1: all of them).
        query = f"SELECT * FROM (SELECT * FROM {table} ORDER BY id DESC LIMIT ?) ORDER BY id"
        return map(make, _by_name(db).execute(query, (limit,)))

    def open_journal(self, *, max_calls: int | None = None) -> Journal:
        """A journal holding what the store holds, and kept in it from now on."""
        journal = Journal(max_calls=max_calls)
        self.restore(journal, max_calls=max_calls)
        if not self.readonly:
            self.attach(journal)
        return journal

    def count(self) -> int:
        with self._lock:
            count: int = self._connection().execute("SELECT count(*) FROM calls").fetchone()[0]
            return count


# -- rows ----------------------------------------------------------------------------------------


def _by_name(db: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor whose rows are read by column name."""
    cursor = db.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor


def _dump_violations(violations: tuple[Violation, ...]) -> str:
    if not violations:
        return _NO_VIOLATIONS
    return orjson.dumps([(v.code, v.severity, v.path, v.message) for v in violations]).decode()


@functools.lru_cache(maxsize=4096)
def _load_violations(text: str) -> tuple[Violation, ...]:
    # Cached: most calls share a few shapes of violations, and a Violation is immutable.
    if text == _NO_VIOLATIONS:
        return ()
    return tuple(Violation(*fields) for fields in orjson.loads(text))


def _call_row(call: Call) -> dict[str, Any]:
    row = call._asdict()
    row["violations"] = _dump_violations(call.violations)
    return row


def _request_row(request: RequestRecord) -> dict[str, Any]:
    row = request._asdict()
    row["violations"] = _dump_violations(request.violations)
    row["call_ids"] = orjson.dumps(request.call_ids).decode()
    return row


def _call(row: sqlite3.Row) -> Call:
    fields = {name: row[name] for name in CALL_FIELDS}
    fields["valid"], fields["accepted"] = bool(fields["valid"]), bool(fields["accepted"])  # SQLite keeps 0 and 1
    fields["violations"] = _load_violations(fields["violations"])
    return Call(**fields)


def _request(row: sqlite3.Row) -> RequestRecord:
    fields = {name: row[name] for name in REQUEST_FIELDS}
    fields["accepted"] = bool(fields["accepted"])
    fields["violations"] = _load_violations(fields["violations"])
    fields["call_ids"] = tuple(orjson.loads(fields["call_ids"]))
    return RequestRecord(**fields)
