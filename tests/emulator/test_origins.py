"""The host and origin policy of the inspection API: exact, never by prefix."""

from __future__ import annotations

import pytest

from mockpipe.emulator.origins import HostPolicy, host_name, is_loopback


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("localhost:4242", "localhost"),
        ("LOCALHOST", "localhost"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:4242", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("example.com", "example.com"),
        ("", None),
        ("a b", None),
        ("evil.example/x", None),
        ("user@127.0.0.1", None),
        ("127.0.0.1:99999", None),
        ("127.0.0.1:abc", None),
        ("[::1", None),
        ("[::1]x", None),
    ],
)
def test_host_name(header: str, host: str | None) -> None:
    assert host_name(header) == host


@pytest.mark.parametrize(
    "host", ["localhost", "app.localhost", "127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "localhost."]
)
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    ["127.evil.example", "127.0.0.1.nip.io", "localhost.evil.example", "evil-localhost", "10.0.0.1", "0.0.0.0", ""],
)
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_hosts_allowed_by_default_are_this_machine_and_the_bound_address() -> None:
    policy = HostPolicy("192.168.1.5")
    assert policy.allows_host("localhost")
    assert policy.allows_host("192.168.1.5")
    assert not policy.allows_host("evil.example")  # a rebinding name
    assert not policy.allows_host("127.evil.example")
    assert not policy.allows_host(None)


def test_an_unspecified_bind_address_allows_no_other_host() -> None:
    policy = HostPolicy("0.0.0.0")
    assert not policy.allows_host("0.0.0.0")
    assert not policy.allows_host("192.168.1.5")
    assert HostPolicy("0.0.0.0", frozenset({"devbox.internal"})).allows_host("devbox.internal")


def test_allow_host_star_opens_hosts_but_not_origins() -> None:
    policy = HostPolicy(allowed=frozenset({"*"}))
    assert policy.allows_host("anything.example")
    assert not policy.allows_origin("http://evil.example")


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:3000",
        "http://127.0.0.1",
        "https://127.0.0.1:8443",
        "http://[::1]:5173",
        "http://app.localhost",
    ],
)
def test_local_origins_are_allowed(origin: str) -> None:
    assert HostPolicy().allows_origin(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.evil.example",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.example",
        "null",
        "file://",
        "chrome-extension://abc",
        "http://127.0.0.1:99999",
        "http://user@127.0.0.1",
        "http://127.0.0.1/path",
        "",
        "http://",
    ],
)
def test_foreign_or_malformed_origins_are_refused(origin: str) -> None:
    assert not HostPolicy().allows_origin(origin)


def test_the_servers_own_origin_is_allowed() -> None:
    policy = HostPolicy("0.0.0.0", frozenset({"devbox.internal"}))
    assert policy.allows_origin("http://devbox.internal:4242")
    assert HostPolicy("0.0.0.0").allows_origin("http://10.1.2.3:4242", own_host="10.1.2.3:4242")
    assert not HostPolicy("0.0.0.0").allows_origin("http://10.1.2.3:4243", own_host="10.1.2.3:4242")
