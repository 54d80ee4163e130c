"""The calls of a running server, and of recordings and a server together."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli.call_sources import calls_from_server, read_sources
from mockpipe.relay.sources import SourceError


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


def test_recordings_and_a_server_together(tmp_path: Path) -> None:
    recording = tmp_path / "run.jsonl"
    recording.write_bytes(orjson.dumps({"writeKey": "k", "payload": {"type": "page", "name": "Home", "userId": "u"}}))
    with MockPipeServer() as server:
        httpx.post(f"{server.url}/v1/track", json={"userId": "u", "event": "E"}, auth=("k", ""))
        calls = read_sources([str(recording)], url=server.url)
    assert [c.type for c in calls] == ["page", "track"]
    assert calls[0].where == f"{recording}:1" and calls[1].where == f"{server.url} call 1"
