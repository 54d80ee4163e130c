"""Calls read from where the offline commands find them: recordings and exports (files or folders of
them, in any format `mockpipe.relay.recording.read_calls` reads) or a running server's journal.

`plan coverage`, `plan infer` and `contract diff` all take their calls from here, so that "a recording"
means the same to each of them. A line that cannot be read stops the command with its file and line:
a coverage or a contract computed from part of a recording would look right and be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from mockpipe.types import JSONObject

# The files of a folder that are read as recordings; anything else in it (a README, snapshots) is not.
RECORDING_SUFFIXES = (".jsonl", ".ndjson", ".json")


class SourceError(MockpipeError):
    """A recording or server that cannot be read: the message names it (and the line, for a file)."""


@dataclass(frozen=True, slots=True)
class SourcedCall:
    """One call: its type, its payload (as the journal or the recording holds it) and its write key."""

    type: str
    payload: JSONObject
    write_key: str | None
    where: str  # `file:line`, or the server's URL and call id


def recording_files(names: Iterable[str]) -> list[Path]:
    """The files named, each folder replaced by its recordings (sorted, not recursive).

    Raises SourceError for a name that does not exist or a folder without recordings."""
    files: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in RECORDING_SUFFIXES)
            if not found:
                raise SourceError(f"{name}: a folder with no recordings ({', '.join(RECORDING_SUFFIXES)} files)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise SourceError(f"{name}: no such file or folder")
    return files


def calls_from_files(names: Iterable[str], *, write_key: str | None = None) -> Iterator[SourcedCall]:
    """The calls of the recordings named (files or folders), in file order; only `write_key`'s if given."""
    from mockpipe.relay.recording import read_calls

    for path in recording_files(names):
        try:
            with path.open("rb") as lines:
                for recorded in read_calls(lines):
                    where = f"{path}:{recorded.line}"
                    if recorded.payload is None:
                        raise SourceError(f"{where}: {recorded.problem}")
                    if write_key is not None and recorded.write_key != write_key:
                        continue
                    yield SourcedCall(str(recorded.payload.get("type")), recorded.payload, recorded.write_key, where)
        except OSError as exc:
            raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def calls_from_server(url: str, *, write_key: str | None = None) -> Iterator[SourcedCall]:
    """The accepted calls a running mockpipe holds, oldest first, resends left out; only `write_key`'s if given.

    Raises SourceError when nothing answers at `url` or what answers is not a mockpipe."""
    from mockpipe.cli.inspection_client import InspectionClient, InspectionError

    params = {} if write_key is None else {"writeKey": write_key}
    try:
        with InspectionClient(url) as client:
            for record in client.calls(params):
                if not record.get("accepted", True) or record.get("duplicateOf") is not None:
                    continue
                payload = record["payload"]
                yield SourcedCall(str(record["type"]), payload, record.get("writeKey"), f"{url} call {record['id']}")
    except InspectionError as exc:
        raise SourceError(str(exc)) from exc


def read_sources(names: Iterable[str], *, url: str | None = None, write_key: str | None = None) -> list[SourcedCall]:
    """Every call of the recordings named and, with `url`, of that server (raises SourceError)."""
    calls = list(calls_from_files(names, write_key=write_key))
    if url is not None:
        calls.extend(calls_from_server(url, write_key=write_key))
    return calls
