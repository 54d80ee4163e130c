"""Fixtures of the factory tests: one re-seeded factory, and a real emulator with a client, per module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockpipe import MockPipeServer
from mockpipe.factories import PayloadFactory


@pytest.fixture(scope="module")
def factory() -> PayloadFactory:
    return PayloadFactory()  # one Faker, re-seeded per seed: making a Faker costs ~25 ms


@pytest.fixture(scope="module")
def server() -> Iterator[MockPipeServer]:
    with MockPipeServer() as running:
        yield running


@pytest.fixture(scope="module")
def http(server: MockPipeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield client
