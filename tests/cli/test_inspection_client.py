"""The inspection client (httpx): what it says when nothing listens, nothing answers, or the answer is wrong."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, ClassVar

import pytest

from mockpipe import MockPipeServer
from mockpipe.cli import main
from mockpipe.cli.inspection_client import InspectionClient, InspectionError

if TYPE_CHECKING:
    from collections.abc import Iterator


class _NotMockpipe(BaseHTTPRequestHandler):
    """Answers by path: under /html an HTML page, under /list a JSON array, anything else a 503."""

    ANSWERS: ClassVar[dict[str, tuple[int, bytes]]] = {
        "/html/mockpipe/health": (200, b"<html>hello</html>"),
        "/html/mockpipe/calls": (200, b"<html>hello</html>"),
        "/list/mockpipe/health": (200, b"[1, 2]"),
    }

    def do_GET(self) -> None:
        status, body = self.ANSWERS.get(self.path.split("?")[0], (503, b"busy, come back later"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotMockpipe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_nothing_listening_is_a_clear_error() -> None:
    with InspectionClient(f"http://127.0.0.1:{_free_port()}") as client, pytest.raises(InspectionError) as raised:
        client.instance()
    assert str(raised.value).startswith(f"cannot reach mockpipe at {client.url}: ")
    assert raised.value.status is None


def test_an_answer_that_is_not_a_json_object_is_a_clear_error(other_server: str) -> None:
    for path in ("/html", "/list"):
        with InspectionClient(other_server + path) as client, pytest.raises(InspectionError) as raised:
            client.instance()
        assert str(raised.value).endswith("/mockpipe/health did not answer a JSON object: is it a mockpipe?")


def test_an_http_error_keeps_its_status_and_body(other_server: str) -> None:
    with InspectionClient(other_server) as client, pytest.raises(InspectionError) as raised:
        list(client.calls({"type": "track"}))
    assert raised.value.status == 503
    assert "/mockpipe/calls?type=track&limit=1000: HTTP 503: busy, come back later" in str(raised.value)


def test_a_server_that_does_not_answer_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with InspectionClient(url, timeout=0.2) as client, pytest.raises(InspectionError) as raised:
            client.instance()
    assert str(raised.value) == f"mockpipe at {url} did not answer within 0.2 s"


def test_a_url_that_is_not_http() -> None:
    with InspectionClient("ftp://example.invalid/") as client, pytest.raises(InspectionError) as raised:
        client.instance()
    assert str(raised.value) == "'ftp://example.invalid' is not an http:// or https:// URL"


def test_a_missing_call_is_none_and_the_connection_is_kept() -> None:
    with MockPipeServer() as server, InspectionClient(server.url) as client:
        assert client.call(1) is None
        assert client.instance() is not None and list(client.calls({})) == []


def test_the_commands_print_the_error_and_exit_1(other_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calls", "--url", other_server + "/html"]) == 1
    assert main(["export", "--url", other_server]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("mockpipe: http://127.0.0.1:") and err[0].endswith("is it a mockpipe?")
    assert err[1].startswith("mockpipe: http://127.0.0.1:") and "HTTP 503" in err[1]


def test_calls_against_nothing_prints_one_line_and_no_table(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    assert main(["calls", "--url", url]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # the table's header came before the error
    [line] = captured.err.splitlines()
    assert line == f"mockpipe: cannot reach mockpipe at {url}: connection refused (is `mockpipe serve` running there?)"


class _WebSite(BaseHTTPRequestHandler):
    """Another web server: an HTML 404 page for every path."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html>\n<html><head><title>Not Found</title></head>\n<body>" + b"x" * 500 + b"</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_calls_against_another_server_is_a_clear_error_without_its_html(capsys: pytest.CaptureFixture[str]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WebSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert main(["calls", "--url", url]) == 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert "<" not in line and "HTTP 404" in line and "is it a mockpipe?" in line


def test_an_error_of_mockpipe_shows_its_code_and_message() -> None:
    with MockPipeServer() as server, InspectionClient(server.url) as client, pytest.raises(InspectionError) as raised:
        client.get("/mockpipe/calls", {"limit": "many"})
    assert raised.value.status == 400
    assert str(raised.value).endswith("HTTP 400 query.invalid: " + raised.value.args[0].split("query.invalid: ")[1])
    assert "{" not in str(raised.value)
