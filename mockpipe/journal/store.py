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

Untouched unless it is a store: before anything writes to the file, `store_check` reads it (header,
schema, `PRAGMA quick_check`) and refuses what is not a mockpipe store in good order. A row that cannot
be read back as a record is skipped at restore, with a warning, and counted (`Journal.damaged_rows`);
the restore streams rows into the journal, which packs them as it packs live calls.

Forward status (`serve --store --forward URL`): the calls a forwarder will relay are marked pending
in the same transaction as the calls themselves, and marked delivered or failed once the destination
has answered, so that a restart with the same `--forward` sends again what a crash left pending (at
least once: a call delivered just before a crash, its mark not yet written, goes twice, with its
messageId, which the service uses to drop the copy).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from mockpipe.errors import MockpipeError
from mockpipe.journal.journal import Journal
from mockpipe.journal.schema import (
    CALL_SELECT,
    INSERT_CALL,
    INSERT_FORWARD,
    INSERT_REQUEST,
    PENDING,
    READABLE_VERSIONS,
    REQUEST_SELECT,
    SCHEMA_SQL,
    SCHEMA_VERSION,
    UPDATE_FORWARD,
    UPGRADES,
    DamagedRowError,
    call_of,
    call_row,
    request_of,
    request_row,
)
from mockpipe.journal.store_check import damaged, store_problem

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from mockpipe.journal.records import Call, RequestRecord

log = logging.getLogger("mockpipe.journal.store")

SYNCHRONOUS = ("normal", "full")


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
        self._checked = False  # the file was found a store in good order (once: a reopen does not ask again)
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
        if not self._checked:  # before anything writes to it (WAL mode, the schema): refused untouched
            problem = store_problem(self.path, readonly=self.readonly)
            if problem is not None:
                raise StoreError(problem)
            self._checked = True
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
            db.executescript(f"BEGIN; {SCHEMA_SQL} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        elif version in UPGRADES:
            db.executescript(f"BEGIN; {UPGRADES[version]} PRAGMA user_version={version + 1}; COMMIT;")
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
                db.execute(INSERT_REQUEST, request_row(request))
                if calls:
                    db.executemany(INSERT_CALL, map(call_row, calls))
                    if self._forwarding is not None:
                        url, status_of = self._forwarding
                        db.executemany(
                            INSERT_FORWARD,
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
                db.executemany(UPDATE_FORWARD, rows)

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
            rows = self._connection().execute(
                f"SELECT {CALL_SELECT} FROM calls "
                "WHERE id IN (SELECT call_id FROM forwards WHERE url = ? AND status = ?) ORDER BY id",
                (url, PENDING),
            )
            return list(_Reader(self.path).known(rows, call_of))

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

    def restore(self, journal: Journal, *, max_calls: int | None = None, progress: Progress | None = None) -> int:
        """Load the stored records into `journal` (the newest `max_calls` calls and requests if
        given); returns how many calls were loaded.

        Rows are streamed into the journal one at a time (it packs them as it does live calls), so a
        restart takes the memory the calls took live, not a list of every record first. A damaged row
        is skipped with a warning and counted in `journal.damaged_rows`. `progress(done, total)` is
        called every `PROGRESS_EVERY` calls. Raises StoreError when the file fails under the read."""
        reader = _Reader(self.path, progress)
        try:
            with self._lock:
                db = self._connection()
                # One read transaction: the calls and the requests are of the same moment.
                with db:
                    db.execute("BEGIN")
                    total = _count(db, "calls", max_calls)
                    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
                    journal.restore(
                        reader.rows(db, "requests", max_calls, request_of),
                        reader.rows(db, "calls", max_calls, call_of, total),
                        last_request_id=meta.get("last_request_id", 0),
                        last_call_id=meta.get("last_call_id", 0),
                    )
        except sqlite3.Error as exc:  # damaged where quick_check did not look, or since
            raise StoreError(damaged(self.path, str(exc))) from None
        journal.damaged_rows += reader.damaged
        if reader.damaged:
            log.warning("%s: %d damaged row(s) skipped", self.path, reader.damaged)
        return reader.loaded

    def open_journal(self, *, max_calls: int | None = None, progress: Progress | None = None) -> Journal:
        """A journal holding what the store holds, and kept in it from now on."""
        journal = Journal(max_calls=max_calls)
        self.restore(journal, max_calls=max_calls, progress=progress)
        if not self.readonly:
            self.attach(journal)
        return journal

    def count(self) -> int:
        with self._lock:
            count: int = self._connection().execute("SELECT count(*) FROM calls").fetchone()[0]
            return count


# -- rows ----------------------------------------------------------------------------------------


# -- streaming rows --------------------------------------------------------------------------------

Record = TypeVar("Record")
Progress = Callable[[int, int], None]  # (calls restored so far, calls to restore)
PROGRESS_EVERY = 10_000
_WARNED_ROWS = 10  # damaged rows warned of one by one; the rest only counted


def _count(db: sqlite3.Connection, table: str, limit: int | None) -> int:
    count: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return count if limit is None else min(count, limit)


class _Reader:
    """Rows of one table streamed as records, skipping (and counting) the damaged ones."""

    def __init__(self, path: Path, progress: Progress | None = None) -> None:
        self.path = path
        self.progress = progress
        self.damaged = 0
        self.loaded = 0

    def rows(
        self,
        db: sqlite3.Connection,
        table: str,
        limit: int | None,
        make: Callable[[tuple[Any, ...]], Record],
        total: int = 0,
    ) -> Iterator[Record]:
        # The newest `limit` rows, oldest first, read in id order (no sort of the whole table).
        columns = CALL_SELECT if table == "calls" else REQUEST_SELECT
        if limit is None:
            rows = db.execute(f"SELECT {columns} FROM {table} ORDER BY id")
        else:
            rows = db.execute(
                f"SELECT {columns} FROM {table} WHERE id >= "
                f"(SELECT id FROM {table} ORDER BY id DESC LIMIT 1 OFFSET max(? - 1, 0)) ORDER BY id",
                (limit,),
            )
        counting = table == "calls"
        for record in self.known(rows, make):
            if counting:
                self.loaded += 1
                if self.progress is not None and self.loaded % PROGRESS_EVERY == 0:
                    self.progress(self.loaded, total)
            yield record
        if counting and self.progress is not None:
            self.progress(self.loaded, total)

    def known(self, rows: Iterable[tuple[Any, ...]], make: Callable[[tuple[Any, ...]], Record]) -> Iterator[Record]:
        kind = "call" if make is call_of else "request"
        for row in rows:
            try:
                yield make(row)
            except DamagedRowError as exc:
                self.damaged += 1
                if self.damaged <= _WARNED_ROWS:
                    log.warning("%s: skipped the damaged %s row %r: %s", self.path, kind, row[0], exc)
