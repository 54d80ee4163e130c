"""A free TCP port of 127.0.0.1 for a test that must name one (free when asked: bind it soon)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
