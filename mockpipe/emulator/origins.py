"""Who may reach the inspection API: the hosts a request may name and the origins a page may come from.

The journal holds people's e-mails and traits, and `/mockpipe/` can change what the emulator answers,
so by default only this machine reaches it:

- the `Host` a request names must be `localhost` (or a `*.localhost` name, which browsers resolve to
  loopback themselves), a loopback address, the address the server was bound to, or a name allowed
  with `--allow-host`. This is what stops DNS rebinding: a page on `evil.example` whose name was made
  to resolve to 127.0.0.1 still sends `Host: evil.example`.
- an `Origin` is parsed as a URL and compared exactly: scheme http or https, and a host that passes the
  same test (any port). Never by prefix: `http://127.evil.example` and `http://127.0.0.1.nip.io` are not
  loopback; `127.0.0.1` is because it is an address, not because of how it starts.

Pure functions: the middleware that applies them lives in `mockpipe.emulator.cors`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_LOCAL_NAMES = frozenset(("localhost",))
_UNSPECIFIED = frozenset(("0.0.0.0", "::"))


def host_name(header: str) -> str | None:
    """The host of a `Host` header (lower case, without port or IPv6 brackets), or None when malformed."""
    header = header.strip().lower()
    if not header or any(char in header for char in "/?#@ \t\\"):
        return None
    if header.startswith("["):  # [::1]:4242
        end = header.find("]")
        if end < 0 or (len(header) > end + 1 and not _is_port(header[end + 1 :])):
            return None
        return header[1:end] or None
    name, colon, port = header.rpartition(":")
    if not colon:
        return header
    if ":" in name:  # a bare IPv6 address without brackets: not a valid Host, but unambiguous
        return header if _is_address(header) else None
    return name if name and _is_port(colon + port) else None


def _is_port(text: str) -> bool:
    return text == ":" or (text.startswith(":") and text[1:].isdigit() and int(text[1:]) <= 65535)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Whether a host name or address can only mean this machine: `localhost`, `*.localhost`,
    127.0.0.0/8, ::1 (and IPv4-mapped loopback). A name that merely starts with "127." is not."""
    host = host.lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclass(frozen=True)
class HostPolicy:
    """The hosts and origins this server answers on `/mockpipe/`: loopback, its bound address, and
    `allowed` (from `--allow-host`; `*` allows every host, for a container behind its own firewall)."""

    bound_host: str = "127.0.0.1"
    allowed: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed", frozenset(name.lower().strip("[]") for name in self.allowed))

    def allows_host(self, host: str | None) -> bool:
        """Whether a request naming this host (from `host_name`) may use the inspection API."""
        if host is None:
            return False
        return "*" in self.allowed or self._known(host)

    def _known(self, host: str) -> bool:
        if host in self.allowed or is_loopback(host):
            return True
        bound = self.bound_host.lower().strip("[]")
        return host == bound and bound not in _UNSPECIFIED

    def allows_origin(self, origin: str, *, own_host: str | None = None) -> bool:
        """Whether a page of this origin (the `Origin` header) may read or change `/mockpipe/`: a page
        on this machine, on an allowed host, or on the server's own host (`own_host`, the request's
        `Host` header: the UI itself). `null` (a sandboxed frame, a file) and anything that is not an
        http(s) URL are refused. `--allow-host *` opens the Host check only, never every origin."""
        try:
            parts = urlsplit(origin.strip())
            port = parts.port  # raises ValueError for a port out of range
        except ValueError:
            return False
        del port
        if parts.scheme not in ("http", "https") or parts.path or parts.query or parts.fragment:
            return False
        if parts.username is not None or parts.password is not None:
            return False
        host = parts.hostname
        if host is None:
            return False
        if self._known(host):
            return True
        return own_host is not None and parts.netloc.lower() == own_host.strip().lower()
