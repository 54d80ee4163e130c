"""Settings of one emulator instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from mockpipe.emulator.origins import host_name
from mockpipe.spec.limits import MAX_BATCH_BYTES, MAX_CALL_BYTES
from mockpipe.types import REGIONS

DEFAULT_LISTEN_HOST = "127.0.0.1"
DEFAULT_LISTEN_PORT = 0
DEFAULT_BODY_TIMEOUT = 5.0  # seconds a tracking request's whole body may take to arrive
DEFAULT_KEEP_ALIVE_TIMEOUT = 5.0  # seconds an idle keep-alive connection stays open


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """How the emulator answers. The defaults behave like production: permissive, US region."""

    host: str = DEFAULT_LISTEN_HOST
    port: int = DEFAULT_LISTEN_PORT
    # Empty: any non-empty key is accepted (and the journal is partitioned by key).
    write_keys: frozenset[str] = field(default_factory=frozenset)
    # Answer spec violations with 400 and auth failures with 401, as `X-Strict-Mode: 1` does per request.
    strict: bool = False
    region: str = "us"
    max_call_bytes: int = MAX_CALL_BYTES
    max_batch_bytes: int = MAX_BATCH_BYTES
    # Answer 400 to bodies that cannot be read at all (bad JSON, too large) even when permissive, as Segment does.
    reject_malformed: bool = False
    # Keep at most this many calls (and requests); the oldest are dropped and counted.
    max_calls: int | None = None
    # Host names (or addresses) the inspection API and UI answer besides localhost, loopback addresses and
    # `host`: `--allow-host`. `*` allows any Host (a container behind its own firewall); origins stay checked.
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    # A tracking request whose body takes longer to arrive is dropped and journaled (`request.incomplete`).
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    # An idle keep-alive connection is closed after this many seconds.
    keep_alive_timeout: float = DEFAULT_KEEP_ALIVE_TIMEOUT
    # Process the requests answered ahead of processing (permissive ones) once the server is quiet; False:
    # only when something reads the journal (`--no-idle-processing`: the benchmark, so that mockpipe does
    # no work while a peer is measured).
    process_when_idle: bool = True

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}, not {self.region!r}")
        if self.max_call_bytes <= 0 or self.max_batch_bytes <= 0:
            raise ValueError("size limits must be positive")
        if self.max_calls is not None and self.max_calls <= 0:
            raise ValueError("max_calls must be positive")
        if not self.body_timeout > 0 or not self.keep_alive_timeout > 0:
            raise ValueError("body_timeout and keep_alive_timeout must be positive (seconds)")
        object.__setattr__(self, "write_keys", frozenset(self.write_keys))
        object.__setattr__(self, "allow_hosts", frozenset(_allowed_host(name) for name in self.allow_hosts))

    def accepts_key(self, write_key: str) -> bool:
        return not self.write_keys or write_key in self.write_keys


def _allowed_host(name: str) -> str:
    """An `--allow-host` name, lower case; raises ValueError for a URL, a port or anything not a host."""
    cleaned = name.strip().lower()
    if cleaned == "*":
        return cleaned
    bare = cleaned[1:-1] if cleaned.startswith("[") and cleaned.endswith("]") else cleaned
    if not bare or host_name(cleaned) != bare:
        raise ValueError(f"allowed host {name!r} must be a host name or address, without scheme or port (or *)")
    return bare
