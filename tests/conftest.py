"""Shared fixtures: a real emulator on a free port of 127.0.0.1 and an HTTP client for it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer


def basic(key: str, password: str = "") -> dict[str, str]:
    """The Authorization header the server SDKs send: Basic base64("key:")."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()}


class Client:
    """A thin HTTP client for one server, over a real socket."""

    def __init__(self, server: MockPipeServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=10.0)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        key: str | None = "wk_test",
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if key is not None:
            sent = {**basic(key), **sent}
        data = content if content is not None else orjson.dumps(body)
        sent.setdefault("Content-Type", "application/json")
        return self.http.post(path, content=data, headers=sent)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def server() -> Iterator[MockPipeServer]:
    with MockPipeServer() as running:
        yield running


@pytest.fixture
def client(server: MockPipeServer) -> Iterator[Client]:
    http = Client(server)
    yield http
    http.close()
