"""pytest plugin of mockpipe: the emulator as a fixture (registered through the `pytest11` entry point).

The exports load on first use: pytest imports this package in every session, and the emulator's
web stack is only worth importing in the sessions that start one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockpipe.testing.snapshot import snapshot_ids as snapshot_ids
    from pytest_mockpipe.fixture import MockPipe as MockPipe
    from pytest_mockpipe.servers import ServerFactory as ServerFactory

__all__ = [
    "MockPipe",
    "ServerFactory",
    "snapshot_ids",
]


def __getattr__(name: str) -> Any:
    if name == "MockPipe":
        from pytest_mockpipe.fixture import MockPipe

        return MockPipe
    if name == "ServerFactory":
        from pytest_mockpipe.servers import ServerFactory

        return ServerFactory
    if name == "snapshot_ids":  # imports syrupy
        from mockpipe.testing.snapshot import snapshot_ids

        return snapshot_ids
    raise AttributeError(f"module 'pytest_mockpipe' has no attribute {name!r}")
