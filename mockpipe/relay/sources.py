"""The calls of recordings named on a command line: files, or folders of them.

`plan coverage`, `plan infer`, `contract diff` and the contract tests read recordings here, so that "a
recording" means the same to each: any line format `read_calls` reads (mockpipe's exports and
recordings, plain payloads, SDK captures), a folder standing for its `*.jsonl` / `*.ndjson` files. A line
that cannot be read stops the reading with its file and line: a coverage or a contract computed from
part of a recording would look right and be wrong.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mockpipe.errors import MockpipeError
from mockpipe.relay.recording import read_calls
from mockpipe.types import JSONObject

# The files of a folder that are read as recordings; anything else in it (a README, a plan) is not.
RECORDING_SUFFIXES = (".jsonl", ".ndjson")

StrPath = str | os.PathLike[str]


class SourceError(MockpipeError, ValueError):
    """Recordings (or a server) that cannot be read: the message names the file and line, or the URL."""


@dataclass(frozen=True, slots=True)
class SourcedCall:
    """One call: its type, its payload (as the journal or the recording holds it) and its write key."""

    type: str
    payload: JSONObject
    write_key: str | None
    where: str  # `file:line`, or the server's URL and call id


def holds_recordings(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES for p in folder.rglob("*"))


def recording_files(paths: Iterable[StrPath]) -> list[Path]:
    """The files named, each folder replaced by its recordings (sorted, sub-folders included).

    Raises SourceError for a name that does not exist or a folder without recordings."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES)
            if not inside:
                raise SourceError(f"{path}: a folder with no recordings ({', '.join(RECORDING_SUFFIXES)} files)")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise SourceError(f"{path}: no such file or folder")
    return found


def recorded_calls(paths: Iterable[StrPath], *, write_key: str | None = None) -> Iterator[SourcedCall]:
    """The calls of the recordings named, in file order; only `write_key`'s if given (raises SourceError)."""
    for path in recording_files(paths):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
        for recorded in read_calls(raw.splitlines()):
            where = f"{path}:{recorded.line}"
            if recorded.payload is None:
                raise SourceError(f"{where}: {recorded.problem}")
            if write_key is None or recorded.write_key == write_key:
                yield SourcedCall(str(recorded.payload.get("type")), recorded.payload, recorded.write_key, where)
