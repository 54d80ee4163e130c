"""Fixtures of the attack suite: a real server on a free port, its address for raw sockets, and httpx."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from mockpipe import MockPipeServer

if TYPE_CHECKING:
    from collections.abc import Iterator


def address_of(server: MockPipeServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    return parts.hostname or "127.0.0.1", parts.port or 80


@pytest.fixture
def target() -> Iterator[MockPipeServer]:
    """A fresh permissive server (the default, as `mockpipe serve` starts)."""
    with MockPipeServer() as running:
        yield running


@pytest.fixture
def http(target: MockPipeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.url, timeout=10.0) as client:
        yield client
