"""Recordings: calls as JSON lines, written as they arrive (`serve --record`), exported from a journal
(`mockpipe export`), and read back by `mockpipe replay`.

A line of a recording is one journaled call, `Call.to_dict()`:
`{"id", "requestId", "writeKey", "type", "receivedAt", "region", "path", "valid", "accepted",
"violations": [{"code", "severity", "path", "message", "plan" (of a plan violation)}], "messageId",
"duplicateOf", "attempts", "payload"}`,
where `payload` is the call as mockpipe kept it (with the type, messageId, timestamp and receivedAt
the service adds) and `attempts` counts the copies received so far.

Replay also reads plain payload lines (one call, or a `{"batch": [...]}` envelope, with an optional
`writeKey`), and the SDK capture format: one HTTP request per line with `method`, `path`, `headers`
and the parsed body as `json` (requests other than the tracking endpoints are passed over).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import orjson

from mockpipe.spec.decoding import ENDPOINT_TYPES, parse_authorization
from mockpipe.spec.validator import split_request
from mockpipe.types import CALL_TYPES

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from mockpipe.journal.journal import Call, RequestRecord
    from mockpipe.types import JSONObject

RECORDINGS_DIR = Path("recordings")


def recording_path(name: str | os.PathLike[str]) -> Path:
    """Where a recording named on the command line goes: a bare file name into `recordings/`."""
    path = Path(name)
    bare = path.parent == Path() and not str(name).startswith(("./", ".\\"))  # "./x.jsonl" means here
    return RECORDINGS_DIR / path if bare else path


def call_line(call: Call, *, attempts: int = 1) -> bytes:
    """One line of a recording."""
    return orjson.dumps(call.to_dict(attempts=attempts)) + b"\n"


class Recorder:
    """A journal listener appending every accepted call to a JSON-lines file as it arrives.

    Each request's lines go out in one unbuffered write, before the response is sent: a call the
    client saw accepted is in the file even if the process is killed right after. Raises OSError
    when the file cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = recording_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = open(self.path, "ab", buffering=0)  # noqa: SIM115 (closed by close())
        self._lock = threading.Lock()
        self.calls = 0

    def write(self, request: RequestRecord, calls: list[Call]) -> None:
        lines = [call_line(call) for call in calls if call.accepted]
        if not lines:
            return
        data = memoryview(b"".join(lines))
        with self._lock:
            while data:  # an unbuffered write may be partial
                written = self._file.write(data)
                data = data[written or 0 :]
            self.calls += len(lines)

    def close(self) -> None:
        with self._lock:
            self._file.close()


class RecordedCall(NamedTuple):
    """One call read from a recording: its line, its write key if the line says, and its payload;
    or the problem that made the line unreadable (payload None)."""

    line: int
    write_key: str | None
    payload: JSONObject | None
    problem: str | None = None


def read_calls(lines: Iterable[bytes]) -> Iterator[RecordedCall]:
    """The calls of a recording in any of the three formats (see the module's docstring)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield RecordedCall(number, None, None, f"not JSON: {exc}")
            continue
        if not isinstance(record, dict):
            yield RecordedCall(number, None, None, "not a JSON object")
        elif (payload := recorded_payload(record)) is not None:
            yield RecordedCall(number, _key(record.get("writeKey")), payload)
        elif "method" in record and "path" in record:
            yield from _captured(number, record)
        else:
            yield from _payloads(number, record, None, None)


def recorded_payload(record: Any) -> JSONObject | None:
    """The call inside one of mockpipe's own records (`Call.to_dict()`: an export or recording line), else None."""
    if isinstance(record, dict) and "writeKey" in record and isinstance(record.get("payload"), dict):
        payload: JSONObject = record["payload"]
        return payload
    return None


def _key(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def captured_body(record: Any) -> tuple[str | None, Any] | None:
    """(endpoint type, body) of a captured SDK request (`{method, path, headers, json}`); (None, None)
    for a captured request that carries no call (a settings or script request); None for anything else."""
    if not isinstance(record, dict) or "method" not in record or "path" not in record:
        return None
    path = str(record.get("path", ""))
    endpoint = ENDPOINT_TYPES.get(path.rsplit("/", 1)[-1]) if path.startswith("/v1/") else None
    if record.get("method") != "POST" or endpoint is None:
        return None, None
    return endpoint, record.get("json")


def _captured(number: int, record: JSONObject) -> Iterator[RecordedCall]:
    """The calls of one captured HTTP request (the SDK capture format)."""
    path = str(record.get("path", ""))
    endpoint, body = captured_body(record) or (None, None)
    if endpoint is None:
        return  # a page, script or settings request of a browser capture: not a call
    if not isinstance(body, dict):
        yield RecordedCall(number, None, None, f"captured {path} has no JSON object as `json`")
        return
    headers = {str(name).lower(): str(value) for name, value in record.get("headers") or ()}
    write_key = parse_authorization(headers.get("authorization"))[0]
    yield from _payloads(number, body, endpoint, write_key)


def _payloads(number: int, body: JSONObject, endpoint: str | None, write_key: str | None) -> Iterator[RecordedCall]:
    """The calls of a request body: one call, or the items of a batch (with the batch's shared fields)."""
    write_key = write_key or _key(body.get("writeKey"))
    path_type = endpoint or ("batch" if isinstance(body.get("batch"), list) else body.get("type"))
    if path_type not in (*CALL_TYPES, "batch"):
        yield RecordedCall(number, None, None, "neither a call with a known type nor a batch")
        return
    items, envelope = split_request(str(path_type), body)
    for violation in envelope:
        yield RecordedCall(number, None, None, violation.message)
    for item in items:
        if item.type not in CALL_TYPES:
            yield RecordedCall(number, None, None, f"batch item {item.index} has no known type")
            continue
        item.payload.setdefault("type", item.type)
        yield RecordedCall(number, write_key, item.payload)
