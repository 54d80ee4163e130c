"""Recordings named on a command line: folders of them, every line format, a line that cannot be read."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from mockpipe.relay.sources import SourceError, recorded_calls, recording_files


def test_a_folder_is_its_recordings_sorted(tmp_path: Path) -> None:
    (tmp_path / "day2").mkdir()
    for name in ("b.jsonl", "a.ndjson", "notes.txt", "plan.json", "day2/c.jsonl"):
        (tmp_path / name).write_text("")
    assert [p.name for p in recording_files([str(tmp_path)])] == ["a.ndjson", "b.jsonl", "c.jsonl"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no recordings"):
        recording_files([str(tmp_path / "empty")])


def test_calls_of_every_recording_format(tmp_path: Path) -> None:
    exported = {"writeKey": "k1", "type": "track", "payload": {"type": "track", "event": "E", "userId": "u"}}
    captured = {
        "method": "POST",
        "path": "/v1/batch",
        "headers": [["Authorization", "Basic azI6"]],
        "json": {"batch": [{"type": "page", "name": "Home", "userId": "u"}]},
    }
    bare = {"type": "identify", "userId": "u", "writeKey": "k3"}
    file = tmp_path / "mixed.jsonl"
    file.write_bytes(b"\n".join(orjson.dumps(line) for line in (exported, captured, bare)))
    calls = list(recorded_calls([str(file)]))
    assert [(c.type, c.write_key, c.where) for c in calls] == [
        ("track", "k1", f"{file}:1"),
        ("page", "k2", f"{file}:2"),
        ("identify", "k3", f"{file}:3"),
    ]
    assert [c.type for c in recorded_calls([str(file)], write_key="k2")] == ["page"]


def test_a_line_that_cannot_be_read_names_its_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "damaged.jsonl"
    file.write_bytes(b'{"type": "track", "event": "E", "userId": "u"}\n[1, 2]\n')
    with pytest.raises(SourceError, match=f"{file}:2: not a JSON object"):
        list(recorded_calls([file]))
    with pytest.raises(SourceError, match="no such file or folder"):
        list(recorded_calls([tmp_path / "missing.jsonl"]))
