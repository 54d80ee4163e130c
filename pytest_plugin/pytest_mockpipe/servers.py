"""Emulators started for a test session: one per distinct set of options, stopped at session end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockpipe.emulator.server import MockPipeServer


class ServerFactory:
    """`make_mockpipe_server(**options)`: a running server with these `ServerConfig` options.

    Servers are shared: asking twice for the same options returns the same server (tests keep apart
    by write key), unless `shared=False`. `defaults` (the listen host, `--mockpipe-strict`) apply
    unless an option overrides them.
    """

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults
        self._shared: dict[tuple[tuple[str, Any], ...], MockPipeServer] = {}
        self._started: list[MockPipeServer] = []

    def running(self) -> list[MockPipeServer]:
        """The servers started here that still run, in the order they started."""
        return [server for server in self._started if server.is_running()]

    def __call__(self, *, shared: bool = True, **options: Any) -> MockPipeServer:
        """A running server; raises `ServerError` if it cannot start, `TypeError`/`ValueError` for bad options."""
        settings = {**self.defaults, **options}
        for name in ("write_keys", "allow_hosts"):  # any iterable of names, hashable for the key
            if name in settings:
                settings[name] = frozenset(settings[name])
        key = tuple(sorted(settings.items()))
        if shared and key in self._shared:
            return self._shared[key]
        server = MockPipeServer(**settings).start()
        self._started.append(server)
        if shared:
            self._shared[key] = server
        return server

    def stop_all(self, before_stop: Callable[[MockPipeServer], None] | None = None) -> None:
        """Stop every server started here (those still running), each told to `before_stop` first."""
        while self._started:
            server = self._started.pop()
            if before_stop is not None:
                before_stop(server)
            if server.is_running():
                server.stop()
        self._shared.clear()
