"""The tracking endpoints over a real socket: routes, auth, encodings, limits, answers, bad input."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import socket
import threading
import zlib
from typing import Any

import orjson
import pytest

from mockpipe import MockPipeServer
from tests.conftest import Client, basic
from tests.support.paths import SDK_CAPTURES
from tests.support.rule_cases import CASES, RuleCase

TRACK = {"userId": "u1", "event": "Signed Up", "properties": {"plan": "pro"}}
VALID: dict[str, dict[str, Any]] = {
    "identify": {"userId": "u1", "traits": {"email": "a@example.com"}},
    "track": TRACK,
    "page": {"userId": "u1", "name": "Pricing"},
    "screen": {"userId": "u1", "name": "Home"},
    "group": {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}},
    "alias": {"userId": "u1", "previousId": "anon-1"},
}
ROUTES = [(f"/v1/{name}", name) for name in VALID] + [(f"/v1/{name[0]}", name) for name in VALID]
CAPTURES = SDK_CAPTURES


def only_call(server: MockPipeServer, key: str = "wk_test") -> Any:
    (call,) = server.calls(write_key=key)
    return call


@pytest.mark.parametrize(("path", "call_type"), ROUTES)
def test_every_single_call_route(client: Client, server: MockPipeServer, path: str, call_type: str) -> None:
    response = client.post(path, VALID[call_type])
    assert (response.status_code, response.json()) == (200, {})
    call = only_call(server)
    assert (call.type, call.path, call.valid, call.accepted) == (call_type, path, True, True)
    assert call.payload["type"] == call_type


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/b"])
def test_batch_routes_cut_every_item_into_a_call(client: Client, server: MockPipeServer, path: str) -> None:
    items = [{"type": name, **payload} for name, payload in VALID.items()]
    assert client.post(path, {"batch": items}).status_code == 200
    calls = server.calls(write_key="wk_test")
    assert [c.type for c in calls] == list(VALID)
    assert len({c.request_id for c in calls}) == 1 and all(c.valid for c in calls)


def test_a_call_is_journaled_before_its_answer(client: Client, server: MockPipeServer) -> None:
    for n in range(20):
        client.post("/v1/track", {**TRACK, "event": f"E{n}"})
        assert server.calls(write_key="wk_test", event=f"E{n}"), "answered 200 before it was in the journal"


def test_enrichment(client: Client, server: MockPipeServer) -> None:
    client.post("/v1/track", TRACK)
    payload = only_call(server).payload
    assert payload["receivedAt"].endswith("Z") and payload["messageId"] and payload["type"] == "track"
    assert payload["timestamp"] == payload["receivedAt"]


def test_a_large_batch_keeps_each_call_as_its_enriched_json(client: Client, server: MockPipeServer) -> None:
    # Over the per-call limit in all, so each item is written out to be measured: the journal reuses
    # that JSON when enriching only adds receivedAt, and must keep exactly what writing it out gives.
    padding = {"text": "x" * 400}
    items: list[dict[str, Any]] = [
        {
            "type": "track",
            "userId": f"u{i}",
            "event": "E",
            "messageId": f"m{i}",
            "timestamp": "2026-01-01T00:00:00Z",
            "properties": padding,
        }
        for i in range(100)
    ]
    items += [
        {"type": "track", "userId": "u", "event": "no id", "timestamp": "2026-01-01T00:00:00Z"},
        {"type": "track", "userId": "u", "event": "no time", "messageId": "t1"},
        {"type": "track", "userId": "u", "event": "time null", "messageId": "t2", "timestamp": None},
        {"type": "page", "userId": "u", "messageId": "t3", "timestamp": "2026-01-01T00:00:00Z", "receivedAt": "x"},
        {"type": "trak", "userId": "u", "messageId": "t4", "timestamp": "2026-01-01T00:00:00Z"},
        {"userId": "u", "messageId": "t5", "timestamp": "2026-01-01T00:00:00Z"},
        {
            "type": "identify",
            "userId": "ü ✓",
            "messageId": "t6",
            "timestamp": "2026-01-01T00:00:00Z",
            "traits": {"name": "Zoë"},
        },
    ]
    assert client.post("/v1/batch", {"batch": items, "sentAt": "2026-01-01T00:00:01Z"}).status_code == 200
    calls = server.calls()
    assert len(calls) == len(items)
    for call in calls:
        payload = call.payload
        assert call.raw == orjson.dumps(payload)
        assert payload["receivedAt"] == call.received_at and payload["sentAt"] == "2026-01-01T00:00:01Z"
        assert payload["messageId"] and payload["timestamp"]
    assert calls[-1].payload["traits"] == {"name": "Zoë"}


def test_wrong_method_and_unknown_path_are_journaled(client: Client, server: MockPipeServer) -> None:
    response = client.http.get("/v1/track", headers=basic("wk_test"))
    assert response.status_code == 405 and response.json()["code"] == "request.method"
    response = client.post("/v1/m", TRACK)
    assert response.status_code == 404 and response.json()["code"] == "request.not_found"
    assert [(r.status, r.reason) for r in server.requests()] == [(405, "request.method"), (404, "request.not_found")]


# -- auth -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "style"),
    [
        (basic("k1"), "basic"),
        ({"Authorization": "Basic " + base64.b64encode(b"k1").decode()}, "basic"),
        (basic("k1", "whatever"), "basic"),
        ({"Authorization": "Basic k1"}, "basic"),
        ({"Authorization": "Bearer k1"}, "bearer"),
    ],
)
def test_header_auth_styles(client: Client, server: MockPipeServer, headers: dict[str, str], style: str) -> None:
    assert client.post("/v1/track", TRACK, key=None, headers=headers).status_code == 200
    assert only_call(server, "k1").write_key == "k1"
    assert server.requests()[0].auth == style


def test_write_key_in_the_body(client: Client, server: MockPipeServer) -> None:
    client.post("/v1/t", {**TRACK, "writeKey": "k-body"}, key=None, headers={"Content-Type": "text/plain"})
    client.post("/v1/b", {"batch": [{"type": "track", **TRACK}], "writeKey": "k-batch"}, key=None)
    assert [c.write_key for c in server.calls()] == ["k-body", "k-batch"]
    assert {r.auth for r in server.requests()} == {"body"}


def test_the_header_key_wins_over_the_body(client: Client, server: MockPipeServer) -> None:
    client.post("/v1/track", {**TRACK, "writeKey": "k-body"}, key="k-header")
    assert only_call(server, "k-header")


def test_missing_key_permissive_then_strict(client: Client, server: MockPipeServer) -> None:
    assert (client.post("/v1/track", TRACK, key=None).status_code, server.calls()) == (200, [])
    response = client.post("/v1/track", TRACK, key=None, headers={"X-Strict-Mode": "1"})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.missing" and response.json()["message"]
    assert [r.reason for r in server.requests()] == ["auth.missing", "auth.missing"]


def test_known_keys_restrict_the_server() -> None:
    with MockPipeServer(write_keys={"good"}) as server:
        client = Client(server)
        assert client.post("/v1/track", TRACK, key="good").status_code == 200
        assert client.post("/v1/track", TRACK, key="bad").status_code == 200
        strict = client.post("/v1/track", TRACK, key="bad", headers={"X-Strict-Mode": "1"})
        assert strict.status_code == 401 and strict.json()["code"] == "auth.unknown_key"
        assert [c.write_key for c in server.calls()] == ["good"]
        assert client.get("/v1/projects/bad/settings").status_code == 404
        client.close()


def test_parallel_keys_are_isolated(client: Client, server: MockPipeServer) -> None:
    client.post("/v1/track", TRACK, key="test-a")
    client.post("/v1/track", TRACK, key="test-b")
    assert [c.write_key for c in server.calls(write_key="test-a")] == ["test-a"]


# -- bodies -----------------------------------------------------------------------------------------


def test_any_content_type_is_json(client: Client, server: MockPipeServer) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        assert client.post("/v1/track", TRACK, headers={"Content-Type": content_type}).status_code == 200
    assert len(server.calls(write_key="wk_test", duplicates=True)) == 3


@pytest.mark.parametrize(
    ("encoding", "encode"), [("gzip", gzip.compress), ("deflate", zlib.compress), ("x-gzip", gzip.compress)]
)
def test_compressed_bodies(client: Client, server: MockPipeServer, encoding: str, encode: Any) -> None:
    body = encode(orjson.dumps({"batch": [{"type": "track", **TRACK}]}))
    assert client.post("/v1/batch", content=body, headers={"Content-Encoding": encoding}).status_code == 200
    assert only_call(server).valid
    assert server.requests()[0].content_encoding == encoding


def test_call_and_item_limits(client: Client, server: MockPipeServer) -> None:
    big = {**TRACK, "properties": {"blob": "x" * (33 * 1024)}}
    assert client.post("/v1/track", big).status_code == 200
    assert [v.code for v in only_call(server).violations] == ["call.too_large"]
    response = client.post("/v1/track", big, headers={"X-Strict-Mode": "1"})
    assert response.status_code == 400 and response.json()["violations"][0]["code"] == "call.too_large"

    client.post("/v1/batch", {"batch": [{"type": "track", **TRACK}, {"type": "track", **big}]}, key="k-batch")
    assert [c.valid for c in server.calls(write_key="k-batch")] == [True, False]


def test_batch_limit_counts_decompressed_bytes(client: Client, server: MockPipeServer) -> None:
    items = [{"type": "track", **TRACK, "properties": {"blob": "y" * 20_000}} for _ in range(30)]  # ~600 KB
    body = gzip.compress(orjson.dumps({"batch": items}))
    assert len(body) < 100_000
    response = client.post("/v1/batch", content=body, headers={"Content-Encoding": "gzip", "X-Strict-Mode": "1"})
    assert response.status_code == 400 and response.json()["code"] == "request.body.too_large"
    assert server.calls() == [] and server.requests()[0].reason == "request.body.too_large"


def test_configured_limits() -> None:
    with MockPipeServer(max_call_bytes=100, max_batch_bytes=1000) as server:
        client = Client(server)
        client.post("/v1/track", {**TRACK, "properties": {"blob": "z" * 200}})
        assert [v.code for v in only_call(server).violations] == ["call.too_large"]
        client.post("/v1/batch", {"batch": [{"type": "track", **TRACK}] * 30})
        assert server.requests()[-1].reason == "request.body.too_large"
        client.close()


# -- answers ----------------------------------------------------------------------------------------


def test_permissive_by_default_strict_on_request(client: Client, server: MockPipeServer) -> None:
    bad = {"userId": "u1"}
    response = client.post("/v1/track", bad)
    assert (response.status_code, response.json()) == (200, {})
    response = client.post("/v1/track", bad, headers={"X-Strict-Mode": "1"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "spec.violation" and "event" in body["message"]
    assert body["violations"] == [
        {
            "code": "track.event.required",
            "severity": "error",
            "path": "/event",
            "message": "track call needs a non-empty event name",
        }
    ]
    assert body["meta"]["errors"] == ["track call needs a non-empty event name"]
    first, second = server.calls(write_key="wk_test", duplicates=True)
    assert (first.valid, first.accepted, second.valid, second.accepted) == (False, True, False, False)


def test_strict_server_and_warnings_still_pass() -> None:
    with MockPipeServer(strict=True) as server:
        client = Client(server)
        assert client.post("/v1/track", {"userId": "u1"}).status_code == 400
        assert client.post("/v1/track", {**TRACK, "userId": 7}).status_code == 200  # a warning only
        assert client.post("/v1/track", TRACK, key=None).status_code == 401
        client.close()


def test_strict_batch_paths_point_into_the_request(client: Client) -> None:
    response = client.post(
        "/v1/batch",
        {"batch": [{"type": "track", **TRACK}, {"type": "track", "userId": "u1"}]},
        headers={"X-Strict-Mode": "1"},
    )
    assert [v["path"] for v in response.json()["violations"]] == ["/batch/1/event"]


def test_no_answer_is_202_or_204(client: Client) -> None:
    answers = {
        client.post("/v1/track", TRACK).status_code,
        client.post("/v1/batch", {"batch": []}).status_code,
        client.post("/v1/track", {}).status_code,
    }
    assert answers == {200}


# -- each rule over HTTP ----------------------------------------------------------------------------


def _flagged(server: MockPipeServer, key: str) -> list[str]:
    codes = [v.code for call in server.calls(write_key=key, duplicates=True) for v in call.violations]
    return codes + [v.code for r in server.requests() if r.write_key == key for v in r.violations]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_each_rule_over_http(case: RuleCase, client: Client, server: MockPipeServer) -> None:
    client.post(f"/v1/{case.endpoint}", case.bad, key=case.write_key)
    assert case.code in _flagged(server, case.write_key)
    server.clear()
    assert client.post(f"/v1/{case.endpoint}", case.good, key=case.good_write_key).status_code == 200
    assert _flagged(server, case.good_write_key) == []
    assert all(call.valid for call in server.calls())


def test_region_is_configurable() -> None:
    with MockPipeServer(region="eu") as server:
        client = Client(server)
        client.post("/v1/track", TRACK, key="pk_us_abc")
        client.post("/v1/track", TRACK, key="pk_eu_abc")
        assert [(c.write_key, c.valid, c.region) for c in server.calls()] == [
            ("pk_us_abc", False, "eu"),
            ("pk_eu_abc", True, "eu"),
        ]
        client.close()


# -- bad input ---------------------------------------------------------------------------------------


def _gzip_bomb(inflated: int) -> bytes:
    """A small gzip body that inflates to `inflated` bytes, built without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join(parts) + packer.flush()


BAD_BODIES: list[tuple[str, bytes, dict[str, str], str]] = [
    ("malformed JSON", b'{"userId": "u1", ', {}, "request.json.invalid"),
    ("JSON array", b'[{"userId": "u1"}]', {}, "request.json.not_object"),
    ("JSON string", b'"track"', {}, "request.json.not_object"),
    ("JSON null", b"null", {}, "request.json.not_object"),
    ("invalid UTF-8", b'{"userId": "\xff\xfe"}', {}, "request.json.invalid"),
    ("empty body", b"", {}, "request.body.empty"),
    (
        "truncated gzip",
        gzip.compress(orjson.dumps(TRACK) * 50)[:40],
        {"Content-Encoding": "gzip"},
        "request.encoding.invalid",
    ),
    ("not gzip", b"plain", {"Content-Encoding": "gzip"}, "request.encoding.invalid"),
    ("unknown encoding", b"{}", {"Content-Encoding": "br"}, "request.encoding.unsupported"),
    ("oversized body", b'{"pad": "' + b"x" * 600_000 + b'"}', {}, "request.body.too_large"),
    ("gzip bomb", _gzip_bomb(64 * 1024 * 1024), {"Content-Encoding": "gzip"}, "request.body.too_large"),
    ("nested beyond the parser", b"[" * 5000 + b"]" * 5000, {}, "request.json.invalid"),
    (
        "nested beyond storage",
        b'{"userId":"u1","event":"E","properties":' + b'{"a":' * 300 + b"1" + b"}" * 301,
        {},
        "request.json.invalid",
    ),
]


@pytest.mark.parametrize(("name", "body", "headers", "reason"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_is_answered_journaled_and_survived(
    client: Client, server: MockPipeServer, name: str, body: bytes, headers: dict[str, str], reason: str
) -> None:
    permissive = client.post("/v1/track", content=body, headers=headers)
    strict = client.post("/v1/track", content=body, headers={**headers, "X-Strict-Mode": "1"})
    assert (permissive.status_code, permissive.json()) == (200, {})
    assert strict.status_code == 400
    assert strict.json()["code"] == reason and strict.json()["message"]
    assert [(r.accepted, r.reason) for r in server.requests()] == [(False, reason)] * 2
    assert server.calls() == []
    assert client.post("/v1/track", TRACK).status_code == 200, "the server keeps serving"


def test_reject_malformed_answers_400_even_when_permissive() -> None:
    with MockPipeServer(reject_malformed=True) as server:
        client = Client(server)
        response = client.post("/v1/track", content=b"{nope")
        assert response.status_code == 400 and response.json()["code"] == "request.json.invalid"
        assert client.post("/v1/track", {"userId": "u1"}).status_code == 200  # spec violations stay permissive
        client.close()


def test_rejected_bodies_are_kept_for_inspection(client: Client, server: MockPipeServer) -> None:
    client.post("/v1/track", content=b"{not json")
    (request,) = server.requests()
    assert request.body == b"{not json" and request.to_dict()["body"] == "{not json"


# -- retries -----------------------------------------------------------------------------------------


def test_resent_message_ids_are_one_call(client: Client, server: MockPipeServer) -> None:
    batch = {"batch": [{"type": "track", "messageId": "m-1", **TRACK}, {"type": "track", "messageId": "m-2", **TRACK}]}
    for _ in range(3):
        assert client.post("/v1/batch", batch).status_code == 200
    calls = server.calls(write_key="wk_test")
    assert [c.message_id for c in calls] == ["m-1", "m-2"]
    assert [server.journal.attempts(c.id) for c in calls] == [3, 3]
    listed = client.get("/mockpipe/calls", writeKey="wk_test").json()["calls"]
    assert [(c["messageId"], c["attempts"], c["duplicateOf"]) for c in listed] == [("m-1", 3, None), ("m-2", 3, None)]
    duplicates = client.get("/mockpipe/calls", writeKey="wk_test", duplicates="true").json()["calls"]
    assert len(duplicates) == 6 and sum(c["duplicateOf"] is not None for c in duplicates) == 4
    assert len(server.requests()) == 3


# -- load --------------------------------------------------------------------------------------------


def test_eight_concurrent_clients_sending_2000_calls_each(server: MockPipeServer) -> None:
    errors: list[str] = []

    def send(client_number: int) -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        headers = {**basic(f"load-{client_number}"), "Content-Type": "application/json"}
        try:
            for n in range(2000):
                body = orjson.dumps({"userId": f"u{n}", "event": "Load", "messageId": f"{client_number}-{n}"})
                connection.request("POST", "/v1/track", body, headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(f"{client_number}/{n}: {response.status}")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(server.calls()) == 16_000
    assert len({(c.write_key, c.message_id) for c in server.calls()}) == 16_000
    assert all(server.source(f"load-{n}").accepted == 2000 for n in range(8))


# -- real SDK output --------------------------------------------------------------------------------


def _captured() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(CAPTURES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["method"] == "POST":
                found.append((path.stem, record))
    return found


@pytest.mark.parametrize(("sdk", "record"), _captured(), ids=lambda value: value if isinstance(value, str) else "")
def test_sdk_captures_replayed_are_valid(
    client: Client, server: MockPipeServer, sdk: str, record: dict[str, Any]
) -> None:
    skip = {"host", "content-length", "connection", "accept-encoding"}
    headers = {name: value for name, value in record["headers"] if name.lower() not in skip}
    body = base64.b64decode(record["body_b64"]) if "body_b64" in record else record["body_text"].encode()
    response = client.http.post(record["path"], content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, {})
    calls = server.calls(duplicates=True)
    sent = record["json"].get("batch", [record["json"]])
    assert len(calls) == len(sent) > 0
    for call in calls:
        assert call.valid and call.accepted, f"{sdk} {call.type}: {call.errors}"
        assert call.write_key == "wk_test_123"


def test_a_failed_durable_copy_is_answered_503_so_the_sdk_retries(client: Client, server: MockPipeServer) -> None:
    def broken_store(request: Any, calls: Any) -> None:
        raise OSError("disk full")

    unsubscribe = server.journal.subscribe(broken_store, durable=True)
    response = client.post("/v1/track", TRACK)
    unsubscribe()
    assert response.status_code == 503 and response.json()["code"] == "journal.write_failed"
    assert client.post("/v1/track", TRACK).status_code == 200


def test_trailing_slash_is_not_an_endpoint(client: Client) -> None:
    response = client.post("/v1/track/", TRACK)
    assert response.status_code == 404


def test_an_upload_cut_short_is_never_answered_5xx_and_keeps_no_call(server: MockPipeServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 100\r\n\r\n{")
        sock.shutdown(socket.SHUT_WR)  # the client gives up mid-body
        answer = sock.recv(4096)
    # mockpipe answers as to any unreadable body (200, permissive), never Hypercorn's HTTP layer; no call is
    # kept (the request is journaled as rejected: tests/emulator/test_slow_bodies.py).
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert server.calls() == []


def test_received_at_text_is_format_time_and_the_journal_reads_its_milliseconds_back() -> None:
    from datetime import UTC, datetime, timedelta

    from mockpipe.emulator.ingest import _received_text
    from mockpipe.spec.times import format_time, time_ms

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for moment in (
        epoch,
        epoch - timedelta(microseconds=1),
        epoch + timedelta(microseconds=999),
        datetime(2026, 11, 27, 3, 4, 5, 999_999, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 1000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ):
        text = _received_text(moment)
        assert text == format_time(moment)
        assert time_ms(text) == (moment - epoch) // timedelta(milliseconds=1)
