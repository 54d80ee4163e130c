"""The guard of the inspection API and UI over raw HTTP: who may reach `/mockpipe/` and `/`, and which
requests may change anything (`mockpipe.emulator.guard`). The tracking endpoints stay open to all."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from hypothesis import given, settings, strategies as st

from mockpipe import MockPipeServer
from mockpipe.emulator.guard import Verdicts, check
from mockpipe.emulator.origins import HostPolicy
from tests.conftest import basic

if TYPE_CHECKING:
    from pytest_mockpipe.servers import ServerFactory

IDENTIFY = {"userId": "u1", "traits": {"email": "ada@example.com"}}
FAULT = b'{"status": 503, "all": true}'
# Names a rebinding page (or a lookalike of loopback) sends as its Host.
FOREIGN_HOSTS = [
    "evil.example",
    "127.evil.example",
    "127.0.0.1.nip.io",
    "localhost.evil.example",
    "0.0.0.0",
    "10.0.0.1",
    "evil.example:80",
]
FOREIGN_ORIGINS = [
    "https://evil.example",
    "http://127.evil.example",
    "http://127.0.0.1.nip.io",
    "http://localhost.evil.example",
    "http://127.0.0.1.evil.example:4242",
    "null",
    "file://",
]
GUARDED_READS = [
    "/",
    "/mockpipe/health",
    "/mockpipe/calls",
    "/mockpipe/calls/1",
    "/mockpipe/calls/wait?count=1000000&timeout=5",
    "/mockpipe/requests",
    "/mockpipe/people",
    "/mockpipe/objects",
    "/mockpipe/faults",
    "/mockpipe/ui",
    "/mockpipe/ui/app.js",
    "/mockpipe/events",
    "/nothing/here",
]


@pytest.fixture(scope="module")
def server() -> Iterator[MockPipeServer]:
    with MockPipeServer() as running:
        yield running


@pytest.fixture
def http(server: MockPipeServer) -> Iterator[httpx.Client]:
    server.clear()
    server.faults.clear()
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        assert client.post("/v1/identify", json=IDENTIFY, headers=basic("wk")).status_code == 200
        yield client
    server.faults.clear()


def assert_refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert "access-control-allow-origin" not in answer.headers  # a page could not read even the refusal


def assert_nothing_changed(server: MockPipeServer, http: httpx.Client) -> None:
    assert len(server.journal) == 1
    assert server.faults.rules() == []
    assert http.post("/v1/track", json={"userId": "u1", "event": "E"}, headers=basic("wk")).status_code == 200
    server.journal.clear()
    assert http.post("/v1/identify", json=IDENTIFY, headers=basic("wk")).status_code == 200


# -- Host -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
@pytest.mark.parametrize("path", ["/mockpipe/calls", "/", "/mockpipe/ui", "/mockpipe/events", "/nothing/here"])
def test_a_foreign_host_is_refused(http: httpx.Client, host: str, path: str) -> None:
    answer = http.get(path, headers={"Host": host, "Accept": "text/html"})
    assert_refused(answer, 403, "host.forbidden")
    name = host.rsplit(":", 1)[0] if host.endswith(":80") else host
    assert f"--allow-host {name}" in answer.json()["message"]


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:4242", "app.localhost", "127.0.0.1", "127.1.2.3:9", "[::1]:1"]
)
def test_this_machines_names_are_answered(http: httpx.Client, host: str) -> None:
    assert http.get("/mockpipe/calls", headers={"Host": host}).json()["count"] == 1


def test_a_rebinding_page_can_change_nothing(server: MockPipeServer, http: httpx.Client) -> None:
    # Same-origin to the browser (the page's own name now resolves here): no Origin check would help.
    rebound = {"Host": f"evil.example:{server.port}", "Content-Type": "application/json"}
    assert_refused(http.delete("/mockpipe/calls", headers=rebound), 403, "host.forbidden")
    assert_refused(http.post("/mockpipe/faults", content=FAULT, headers=rebound), 403, "host.forbidden")
    assert_refused(http.delete("/mockpipe/faults", headers=rebound), 403, "host.forbidden")
    assert_nothing_changed(server, http)


def test_the_tracking_endpoints_and_settings_answer_any_host_and_origin(http: httpx.Client) -> None:
    foreign = {"Host": "evil.example", "Origin": "https://evil.example", **basic("wk")}
    tracked = http.post("/v1/track", json={"userId": "u1", "event": "E"}, headers=foreign)
    assert tracked.status_code == 200 and tracked.headers["access-control-allow-origin"] == "https://evil.example"
    settings = http.get("/v1/projects/wk/settings", headers=foreign)
    assert settings.status_code == 200 and settings.headers["access-control-allow-origin"] == "https://evil.example"
    assert http.get("/segment/v1/projects/wk/settings", headers=foreign).status_code == 200
    preflight = http.options("/v1/t", headers={**foreign, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "https://evil.example"


def test_raw_requests_name_their_host_as_sent(server: MockPipeServer) -> None:
    def ask(head: bytes) -> bytes:
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(head + b"\r\n\r\n")
            return sock.recv(65536)

    assert ask(b"GET /mockpipe/health HTTP/1.1\r\nHost: 127.evil.example").startswith(b"HTTP/1.1 403")
    assert ask(b"GET /mockpipe/health HTTP/1.1\r\nHost: 127.0.0.1").startswith(b"HTTP/1.1 200")
    # HTTP/1.0 without a Host cannot come from a browser, so it cannot be a rebinding page.
    assert b" 200 " in ask(b"GET /mockpipe/health HTTP/1.0").split(b"\r\n")[0]


def test_allowed_hosts_are_answered_and_their_pages_too() -> None:
    with MockPipeServer(allow_hosts=["DevBox.internal"]) as server, httpx.Client(base_url=server.url) as http:
        page = "http://devbox.internal:3000"
        answer = http.get("/mockpipe/calls", headers={"Host": f"devbox.internal:{server.port}", "Origin": page})
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == page
        assert_refused(http.get("/mockpipe/calls", headers={"Host": "other.internal"}), 403, "host.forbidden")


def test_allow_host_star_answers_any_host_but_not_foreign_pages() -> None:
    with MockPipeServer(allow_hosts={"*"}) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/mockpipe/calls", headers={"Host": "mockpipe:4242"}).status_code == 200
        # The UI reached by that name calls its own origin.
        own = http.get("/mockpipe/calls", headers={"Host": "mockpipe:4242", "Origin": "http://mockpipe:4242"})
        assert own.status_code == 200
        foreign = {"Host": "mockpipe:4242", "Origin": "https://evil.example"}
        assert_refused(http.get("/mockpipe/calls", headers=foreign), 403, "origin.forbidden")


def test_bound_to_every_address_the_inspection_api_still_wants_a_local_name() -> None:
    with MockPipeServer(host="0.0.0.0") as server, httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
        assert http.get("/mockpipe/health").status_code == 200
        assert_refused(http.get("/mockpipe/health", headers={"Host": f"0.0.0.0:{server.port}"}), 403, "host.forbidden")
        # ... while calls come from anywhere that reaches the port
        assert http.post("/v1/t", json={"userId": "u"}, headers={"Host": "192.0.2.7", **basic("k")}).status_code == 200


def test_make_mockpipe_server_takes_allowed_hosts(make_mockpipe_server: ServerFactory) -> None:
    server = make_mockpipe_server(allow_hosts=["devbox"])
    assert make_mockpipe_server(allow_hosts={"devbox"}) is server
    assert server.config.allow_hosts == frozenset({"devbox"})
    assert httpx.get(server.url_for("/mockpipe/health"), headers={"Host": "devbox"}).status_code == 200


@pytest.mark.parametrize("name", ["http://devbox", "devbox:4242", "", "a b", "devbox/x"])
def test_an_allowed_host_must_be_a_name(name: str) -> None:
    with pytest.raises(ValueError, match="host name or address, without scheme or port"):
        MockPipeServer(allow_hosts=[name])


# -- Origin and Sec-Fetch-Site ----------------------------------------------------------------------


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize("path", GUARDED_READS)
def test_foreign_pages_read_nothing(http: httpx.Client, origin: str, path: str) -> None:
    started = time.monotonic()
    answer = http.get(path, headers={"Origin": origin, "Accept": "text/html"})
    assert_refused(answer, 403, "origin.forbidden")
    assert time.monotonic() - started < 2  # refused before the work: the long-poll never waited
    assert "--allow-host NAME" in answer.json()["message"]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_foreign_pages_change_nothing(server: MockPipeServer, http: httpx.Client, origin: str) -> None:
    headers = {"Origin": origin, "Content-Type": "application/json"}
    assert_refused(http.post("/mockpipe/faults", content=FAULT, headers=headers), 403, "origin.forbidden")
    assert_refused(http.delete("/mockpipe/calls", headers=headers), 403, "origin.forbidden")
    assert_refused(http.delete("/mockpipe/calls", headers={"Origin": origin}), 403, "origin.forbidden")
    assert_nothing_changed(server, http)


def test_a_foreign_preflight_gets_no_allow_headers(http: httpx.Client) -> None:
    ask = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "content-type"}
    refused = http.options("/mockpipe/calls", headers={"Origin": "http://127.evil.example", **ask})
    assert_refused(refused, 403, "origin.forbidden")
    assert "access-control-allow-methods" not in refused.headers
    allowed = http.options("/mockpipe/calls", headers={"Origin": "http://localhost:5173", **ask})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "DELETE" in allowed.headers["access-control-allow-methods"]


def test_allowed_origins_are_echoed_and_nothing_is_built_from_host(server: MockPipeServer, http: httpx.Client) -> None:
    for origin in ("http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8080", "http://app.localhost"):
        answer = http.get("/mockpipe/calls", headers={"Origin": origin})
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == origin
        assert "Origin" in answer.headers["vary"]
    assert "access-control-allow-origin" not in http.get("/mockpipe/calls").headers
    # The UI on its own origin, by a loopback name.
    own = f"http://localhost:{server.port}"
    assert http.get("/mockpipe/calls", headers={"Host": f"localhost:{server.port}", "Origin": own}).status_code == 200


@pytest.mark.parametrize("path", ["/mockpipe/calls", "/mockpipe/ui/app.js", "/mockpipe/events", "/mockpipe/calls/wait"])
def test_cross_site_requests_without_an_origin_are_refused(http: httpx.Client, path: str) -> None:
    # An <img>, <script> or no-cors fetch from another site sends no Origin, but Sec-Fetch-Site tells.
    answer = http.get(path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
    assert_refused(answer, 403, "origin.forbidden")
    navigation = http.get(path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert_refused(navigation, 403, "origin.forbidden")  # only the UI page may be linked to


def test_a_link_from_another_site_opens_the_ui(http: httpx.Client) -> None:
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert http.get("/mockpipe/ui", headers=link).status_code == 200
    root = http.get("/", headers={**link, "Accept": "text/html"})
    assert root.status_code == 307 and root.headers["location"] == "/mockpipe/ui"
    assert_refused(http.post("/mockpipe/ui", headers=link), 403, "origin.forbidden")


@pytest.mark.parametrize("site", ["same-origin", "same-site", "none"])
def test_same_site_requests_are_answered(http: httpx.Client, site: str) -> None:
    assert http.get("/mockpipe/calls", headers={"Sec-Fetch-Site": site}).status_code == 200


def test_an_allowed_origin_vouches_for_a_cross_site_request(http: httpx.Client) -> None:
    # A page on localhost:5173 calling 127.0.0.1 is cross-site to the browser, and on this machine.
    headers = {"Origin": "http://localhost:5173", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}
    assert http.get("/mockpipe/calls", headers=headers).json()["count"] == 1


# -- Content-Type of state changes ------------------------------------------------------------------

SIMPLE_TYPES = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/yaml",  # only where a plan is taken
    "application/jsonx",
    "",
]


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
def test_a_fault_is_installed_only_from_json(server: MockPipeServer, http: httpx.Client, content_type: str) -> None:
    answer = http.post("/mockpipe/faults", content=FAULT, headers={"Content-Type": content_type})
    assert_refused(answer, 415, "content_type.unsupported")
    assert "application/json" in answer.json()["message"]
    assert answer.headers["connection"] == "close"  # refused unread: the client must not reuse the connection
    assert_nothing_changed(server, http)


def test_a_form_post_installs_no_fault(server: MockPipeServer, http: httpx.Client) -> None:
    # What an HTML form on another site can send: urlencoded, multipart, text/plain with a JSON-looking body.
    assert_refused(
        http.post("/mockpipe/faults", data={'{"status": 503, "all": true, "x": "': '"}'}),
        415,
        "content_type.unsupported",
    )
    assert_refused(http.post("/mockpipe/faults", files={"f": FAULT}), 415, "content_type.unsupported")
    assert_nothing_changed(server, http)


def test_a_body_without_a_content_type_is_refused(server: MockPipeServer, http: httpx.Client) -> None:
    assert_refused(http.post("/mockpipe/faults", content=FAULT), 415, "content_type.unsupported")
    chunked = http.post("/mockpipe/faults", content=iter([FAULT]))  # no Content-Length: Transfer-Encoding
    assert_refused(chunked, 415, "content_type.unsupported")
    assert_nothing_changed(server, http)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_changes_state(server: MockPipeServer, http: httpx.Client, content_type: str) -> None:
    created = http.post("/mockpipe/faults", content=FAULT, headers={"Content-Type": content_type})
    assert created.status_code == 201
    assert http.delete("/mockpipe/faults").json() == {"deleted": 1}


def test_a_delete_without_a_body_needs_no_content_type(server: MockPipeServer, http: httpx.Client) -> None:
    assert_refused(
        http.request("DELETE", "/mockpipe/calls", content=b"x", headers={"Content-Type": "text/plain"}),
        415,
        "content_type.unsupported",
    )
    assert_refused(
        http.request("DELETE", "/mockpipe/calls", headers={"Content-Type": "text/plain"}),
        415,
        "content_type.unsupported",
    )
    assert len(server.journal) == 1
    assert http.delete("/mockpipe/calls").json() == {"deleted": 1}


def test_only_the_plan_path_takes_yaml(http: httpx.Client) -> None:
    for content_type in ("application/yaml", "text/yaml", "application/x-yaml"):
        # (the router's 404 leaves the body unread: a new connection for what follows)
        plan = {"Content-Type": content_type, "Connection": "close"}
        answer = http.post("/mockpipe/plan", content=b"events: {}", headers=plan)
        assert answer.status_code != 415  # no plan endpoint yet: whatever the router says
        refused = http.post("/mockpipe/faults", content=b"status: 503", headers={"Content-Type": content_type})
        assert_refused(refused, 415, "content_type.unsupported")
    assert_refused(
        http.post("/mockpipe/plan", content=b"x", headers={"Content-Type": "text/plain"}),
        415,
        "content_type.unsupported",
    )


def test_tracking_posts_take_any_content_type(http: httpx.Client) -> None:
    # The Customer.io browser bundle posts text/plain: the guard is not in front of the tracking endpoints.
    sent = http.post(
        "/v1/t", content=b'{"writeKey": "wk", "userId": "u1", "event": "E"}', headers={"Content-Type": "text/plain"}
    )
    assert sent.status_code == 200


# -- any header value -------------------------------------------------------------------------------

_HEADER_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=60)
_NAMES = [b"host", b"origin", b"sec-fetch-site", b"sec-fetch-mode", b"content-type", b"content-length"]


@settings(max_examples=500, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "OPTIONS", "PUT", "PATCH"]),
    path=st.sampled_from(["/", "/mockpipe/calls", "/mockpipe/faults", "/mockpipe/plan", "/x"]),
    headers=st.dictionaries(
        st.sampled_from(_NAMES), _HEADER_TEXT | st.sampled_from(["[::1", "http://[", "http://a:x"])
    ),
)
def test_the_guard_decides_on_any_header_value(method: str, path: str, headers: dict[bytes, str]) -> None:
    refusal = check(Verdicts(HostPolicy("127.0.0.1", frozenset({"devbox"}))), method, path, headers)
    assert refusal is None or refusal.status_code in (403, 415)


def test_verdicts_are_remembered_within_a_bound() -> None:
    verdicts = Verdicts(HostPolicy())
    for number in range(Verdicts.LIMIT * 3):
        assert not verdicts.host(f"h{number}.example")
        assert not verdicts.origin(f"http://h{number}.example", "localhost")
    assert len(verdicts._hosts) <= Verdicts.LIMIT and len(verdicts._origins) <= Verdicts.LIMIT
    assert verdicts.host("localhost:4242") and verdicts.host("localhost:4242")
    assert verdicts.origin("http://127.0.0.1:3000", None)
