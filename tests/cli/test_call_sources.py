"""Where the offline plan and contract commands read calls: recordings, folders, a running server."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli.call_sources import SourceError, calls_from_server, read_sources, recording_files


def test_a_folder_is_its_recordings_sorted(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.json", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in recording_files([str(tmp_path)])] == ["a.json", "b.jsonl"]
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
    calls = read_sources([str(file)])
    assert [(c.type, c.write_key, c.where) for c in calls] == [
        ("track", "k1", f"{file}:1"),
        ("page", "k2", f"{file}:2"),
        ("identify", "k3", f"{file}:3"),
    ]
    assert [c.type for c in read_sources([str(file)], write_key="k2")] == ["page"]


def test_the_server_gives_accepted_calls_without_resends() -> None:
    with MockPipeServer() as server:
        body = {"userId": "u", "event": "E", "messageId": "m1"}
        for _ in range(2):
            httpx.post(f"{server.url}/v1/track", json=body, auth=("k", ""))
        httpx.post(f"{server.url}/v1/track", json={"userId": "u"}, auth=("k", ""), headers={"X-Strict-Mode": "1"})
        calls = list(calls_from_server(server.url))
    assert [(c.type, c.payload["messageId"]) for c in calls] == [("track", "m1")]


def test_nothing_listening_is_a_source_error() -> None:
    with MockPipeServer() as server:
        url = server.url
    with pytest.raises(SourceError):
        list(calls_from_server(url))
