"""MockPipeServer: a real server on a background thread."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest

from mockpipe import MockPipeServer, ServerConfig, ServerError


def test_start_stop_and_url() -> None:
    server = MockPipeServer()
    server.start()
    try:
        assert server.is_running() and server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(server.url_for("/mockpipe/health")) as response:
            assert response.status == 200
    finally:
        server.stop()
    assert not server.is_running()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass


def test_misuse_raises_server_error() -> None:
    server = MockPipeServer()
    with pytest.raises(ServerError, match="not running"):
        server.stop()
    with server, pytest.raises(ServerError, match="already running"):
        server.start()


def test_restart_keeps_the_journal() -> None:
    server = MockPipeServer()
    body = b'{"userId":"u1","event":"E"}'
    with server:
        request = urllib.request.Request(
            server.url_for("/v1/track"), data=body, headers={"Authorization": "Bearer k1"}, method="POST"
        )
        urllib.request.urlopen(request).close()
    with server:
        assert server.is_running()
        assert [call.event for call in server.calls(write_key="k1")] == ["E"]


def test_busy_port_is_a_clear_error() -> None:
    with MockPipeServer() as first, pytest.raises(ServerError, match="cannot listen"):
        MockPipeServer(port=first.port).start()


def test_options_or_config_not_both() -> None:
    assert MockPipeServer(strict=True, region="eu").config == ServerConfig(strict=True, region="eu")
    with pytest.raises(TypeError):
        MockPipeServer(ServerConfig(), strict=True)
    with pytest.raises(ValueError, match="region"):
        MockPipeServer(region="mars")


def test_wait_for_through_the_server() -> None:
    with MockPipeServer() as server:
        request = urllib.request.Request(
            server.url_for("/v1/track"),
            data=b'{"userId":"u1","event":"E"}',
            headers={"Authorization": "Bearer k1"},
            method="POST",
        )
        urllib.request.urlopen(request).close()
        result = server.wait_for(count=1, timeout=2, write_key="k1", event="E")
        assert not result.timed_out and result.calls[0].user_id == "u1"


def test_the_server_loop_closes_connections_it_still_holds_when_it_stops() -> None:
    # A connection accepted while the server stops has a handler that never ran: nothing else closes it.
    from mockpipe.emulator.server import _ConnectionTrackingLoop

    loop = _ConnectionTrackingLoop()
    accepted: list[asyncio.Transport] = []

    class Holder(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            accepted.append(transport)

    async def scenario() -> None:
        server = await loop.create_server(Holder, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            while not accepted:
                await asyncio.sleep(0.01)
            await loop.close_connections()
            assert accepted[0].is_closing()
            assert accepted[0].get_extra_info("socket").fileno() == -1
        server.close()
        await server.wait_closed()

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
