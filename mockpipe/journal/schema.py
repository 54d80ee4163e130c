"""The SQLite layout of a store (`mockpipe.journal.store`): its tables, made from the records' field
names (one column per field, same name), the upgrades of older layouts, and rows to and from records,
read by column name."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import orjson

from mockpipe.journal.records import CALL_FIELDS, REQUEST_FIELDS, Call, RequestRecord
from mockpipe.spec.rules import Violation

SCHEMA_VERSION = 2  # PRAGMA user_version of a store this code writes (and upgrades to)
READABLE_VERSIONS = (1, 2)  # what it reads without upgrading (1: no forward status)

# Added by schema version 2.
_FORWARDS = """
-- The forward status of the calls forwarded to `url`; `detail`: the status as the journal shows it (JSON).
CREATE TABLE forwards (call_id INTEGER PRIMARY KEY, url TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX forwards_pending ON forwards (url) WHERE status = 'pending';
"""

# The SQL type of each column: one per field of the record, same names (checked below). A field added
# to a record needs its column here and a step in UPGRADES that adds it to existing stores.
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


SCHEMA_SQL = (
    _table("requests", _REQUEST_COLUMNS)
    + _table("calls", _CALL_COLUMNS)
    + """
-- The highest ids ever given, so that ids are not reused after a clear and a restart.
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
    + _FORWARDS
)
UPGRADES = {1: _FORWARDS}  # schema version -> what makes it the next one


def table_columns(version: int) -> dict[str, tuple[str, ...]]:
    """The tables a store of schema `version` has, and their columns (in any order)."""
    tables = {"requests": tuple(_REQUEST_COLUMNS), "calls": tuple(_CALL_COLUMNS), "meta": ("key", "value")}
    if version >= 2:
        tables["forwards"] = ("call_id", "url", "status", "detail")
    return tables


INSERT_FORWARD = "INSERT OR REPLACE INTO forwards VALUES (?, ?, ?, ?)"
UPDATE_FORWARD = "UPDATE forwards SET status = ?, detail = ? WHERE call_id = ? AND url = ?"
PENDING = "pending"


def _insert(table: str, columns: tuple[str, ...]) -> str:
    """An INSERT naming every column, with a named placeholder each (`:column`)."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + column for column in columns)})"


INSERT_REQUEST = _insert("requests", REQUEST_FIELDS)
INSERT_CALL = _insert("calls", CALL_FIELDS)
_NO_VIOLATIONS = "[]"


def _dump_violations(violations: tuple[Violation, ...]) -> str:
    if not violations:
        return _NO_VIOLATIONS
    # A plan violation carries a fifth field: the plan rule it came from.
    return orjson.dumps(
        [
            (v.code, v.severity, v.path, v.message)
            if v.plan is None
            else (v.code, v.severity, v.path, v.message, v.plan)
            for v in violations
        ]
    ).decode()


class DamagedRowError(ValueError):
    """A stored row that cannot be read back as a record: a value of the wrong type, JSON that does not
    parse (the file was edited, or damaged where `PRAGMA quick_check` does not look)."""


def _kinds(column_type: str) -> tuple[type, ...]:
    # What sqlite3 hands back for a column of this declared type: its one Python type, and None if nullable.
    kind = {"INTEGER": int, "TEXT": str, "BLOB": bytes}[column_type.split()[0]]
    return (kind,) if "NOT NULL" in column_type else (kind, type(None))


def _type_rows(columns: dict[str, str], fields: tuple[str, ...]) -> frozenset[tuple[type, ...]]:
    """Every tuple of value types a sound row of these columns can have, in field order: checking a
    row is then one set lookup, not a test per column (a restore reads hundreds of thousands)."""
    return frozenset(itertools.product(*(_kinds(columns[name]) for name in fields)))


_CALL_TYPES = _type_rows(_CALL_COLUMNS, CALL_FIELDS)
_REQUEST_TYPES = _type_rows(_REQUEST_COLUMNS, REQUEST_FIELDS)
CALL_SELECT = ", ".join(CALL_FIELDS)  # rows are read by column name, in the order of the record's fields
REQUEST_SELECT = ", ".join(REQUEST_FIELDS)


def _wrong_type(row: tuple[Any, ...], columns: dict[str, str], fields: tuple[str, ...]) -> DamagedRowError:
    for name, value in zip(fields, row, strict=True):
        allowed = _kinds(columns[name])
        if type(value) not in allowed:
            return DamagedRowError(f"its {name} is {type(value).__name__}, not {allowed[0].__name__}")
    return DamagedRowError("a value of the wrong type")  # not reached: the row's types were refused


@functools.lru_cache(maxsize=4096)
def _load_violations(text: str) -> tuple[Violation, ...]:
    # Cached: most calls share a few shapes of violations, and a Violation is immutable.
    if text == _NO_VIOLATIONS:
        return ()
    try:
        loaded = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise DamagedRowError("its violations are not JSON") from None
    if not isinstance(loaded, list) or not all(
        isinstance(fields, list)
        and (len(fields) == 4 or (len(fields) == 5 and isinstance(fields[4], dict)))
        and all(isinstance(field, str) for field in fields[:4])
        for fields in loaded
    ):
        raise DamagedRowError("its violations are not a list of [code, severity, path, message, plan?]")
    return tuple(Violation(*fields) for fields in loaded)


def call_row(call: Call) -> dict[str, Any]:
    row = call._asdict()
    row["violations"] = _dump_violations(call.violations)
    return row


def request_row(request: RequestRecord) -> dict[str, Any]:
    row = request._asdict()
    row["violations"] = _dump_violations(request.violations)
    row["call_ids"] = orjson.dumps(request.call_ids).decode()
    return row


_VALID, _ACCEPTED, _CALL_VIOLATIONS, _RAW = (
    CALL_FIELDS.index(name) for name in ("valid", "accepted", "violations", "raw")
)
_REQUEST_ACCEPTED, _REQUEST_VIOLATIONS, _CALL_IDS = (
    REQUEST_FIELDS.index(name) for name in ("accepted", "violations", "call_ids")
)


def call_of(row: tuple[Any, ...]) -> Call:
    """The call a row holds (its columns as in `CALL_SELECT`); DamagedRowError if it holds none."""
    if tuple(map(type, row)) not in _CALL_TYPES:
        raise _wrong_type(row, _CALL_COLUMNS, CALL_FIELDS)
    fields = list(row)
    fields[_VALID], fields[_ACCEPTED] = bool(fields[_VALID]), bool(fields[_ACCEPTED])  # SQLite keeps 0 and 1
    fields[_CALL_VIOLATIONS] = _load_violations(fields[_CALL_VIOLATIONS])
    try:  # every reader of the journal parses it: checked here, not left to fail each of them
        payload = orjson.loads(fields[_RAW])
    except orjson.JSONDecodeError:
        raise DamagedRowError("its raw JSON does not parse") from None
    if not isinstance(payload, dict):
        raise DamagedRowError("its raw JSON is not an object")
    return Call._make(fields)


def request_of(row: tuple[Any, ...]) -> RequestRecord:
    """The request a row holds (its columns as in `REQUEST_SELECT`); DamagedRowError if it holds none."""
    if tuple(map(type, row)) not in _REQUEST_TYPES:
        raise _wrong_type(row, _REQUEST_COLUMNS, REQUEST_FIELDS)
    fields = list(row)
    fields[_REQUEST_ACCEPTED] = bool(fields[_REQUEST_ACCEPTED])
    fields[_REQUEST_VIOLATIONS] = _load_violations(fields[_REQUEST_VIOLATIONS])
    try:
        call_ids = orjson.loads(fields[_CALL_IDS])
    except orjson.JSONDecodeError:
        raise DamagedRowError("its call_ids are not JSON") from None
    if not isinstance(call_ids, list) or not all(type(call_id) is int for call_id in call_ids):
        raise DamagedRowError("its call_ids are not a list of ids")
    fields[_CALL_IDS] = tuple(call_ids)
    return RequestRecord._make(fields)
