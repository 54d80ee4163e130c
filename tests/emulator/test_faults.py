"""Fault injection: the rules, the HTTP API, and what a client sees on a real socket."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

import httpx
import orjson
import pytest

import mockpipe.emulator.fault_delivery as delivery_module
from mockpipe import MockPipeServer
from mockpipe.emulator.faults import FaultError, Faults, message_ids
from mockpipe.journal.journal import MAX_FAILED_ATTEMPTS, Call, Journal, RequestRecord
from tests.conftest import Client, basic

TRACK = {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m-1"}


def batch(*message_ids: str) -> dict[str, Any]:
    return {"batch": [{**TRACK, "messageId": mid} for mid in message_ids]}


def post_once(server: MockPipeServer, path: str, body: Any) -> httpx.Response:
    client = Client(server)
    try:
        return client.post(path, body, key="k")
    finally:
        client.close()


# -- the rules -----------------------------------------------------------------------------------


def test_no_rule_is_inactive_and_takes_nothing() -> None:
    faults = Faults()
    assert faults.active is False
    assert faults.take("k") is None


def test_fail_next_takes_exactly_count_requests_then_goes() -> None:
    faults = Faults()
    rule = faults.fail_next(2, status=429, retry_after=1, write_key="k")
    assert faults.active
    first, second = faults.take("k"), faults.take("k")
    assert first is not None and second is not None
    assert (first.status, first.retry_after, first.close, first.delay) == (429, "1", False, 0)
    assert first.label == f"fault {rule.id}: status 429, Retry-After 1"
    assert faults.take("k") is None
    assert faults.rules() == [] and faults.active is False
    assert rule.hits == 2 and rule.remaining == 0


def test_rules_of_one_key_leave_other_keys_alone() -> None:
    faults = Faults()
    faults.fail_next(1, status=503, write_key="a")
    assert faults.take("b") is None
    hit = faults.take("a")
    assert hit is not None and hit.status == 503


def test_a_rule_without_key_applies_to_every_key() -> None:
    faults = Faults()
    faults.fail_all(status=500)
    assert all(faults.take(key) is not None for key in ("a", "b", "c"))
    assert faults.active  # `all` never runs out


def test_answering_rules_queue_up_while_delays_add_up() -> None:
    faults = Faults()
    slow = faults.delay(100, write_key="k")
    first = faults.fail_next(1, status=429, write_key="k")
    second = faults.fail_next(1, status=503, write_key="k", delay_ms=50)
    hits = [faults.take("k") for _ in range(3)]
    assert [hit.status if hit else None for hit in hits] == [429, 503, None]
    assert [hit.delay if hit else None for hit in hits] == [0.1, 0.15, 0.1]
    assert hits[0] is not None and hits[0].label == f"fault {first.id}: status 429; fault {slow.id}: delay 100 ms"
    assert hits[1] is not None and hits[1].label.startswith(f"fault {second.id}: status 503 after 50 ms")
    assert hits[2] is not None and not hits[2].answers


def test_a_fraction_is_drawn_from_its_seed() -> None:
    def pattern() -> list[bool]:
        faults = Faults()
        faults.fail_all(status=503, fraction=0.5, seed=7)
        return [faults.take("k") is not None for _ in range(40)]

    drawn = pattern()
    assert drawn == pattern()
    assert 5 < sum(drawn) < 35


def test_a_fraction_with_a_count_stops_after_count_hits() -> None:
    faults = Faults()
    faults.add(status=503, fraction=0.5, count=3, seed=1)
    assert sum(faults.take("k") is not None for _ in range(100)) == 3
    assert not faults.active


def test_clear_per_key_keeps_the_rules_for_every_key() -> None:
    faults = Faults()
    faults.fail_next(status=503, write_key="a")
    faults.fail_next(status=503, write_key="b")
    everyone = faults.fail_all(status=500)
    assert faults.clear("a") == 1
    assert [rule.write_key for rule in faults.rules()] == ["b", None]
    assert [rule.write_key for rule in faults.rules("a")] == [None]
    assert faults.remove(everyone.id) and not faults.remove(everyone.id)
    assert faults.clear() == 1 and not faults.active


def _nested(depth: int, inner: Any = 1) -> Any:
    """Objects and arrays nested `depth` levels deep, alternately."""
    for level in range(depth):
        inner = {"a": inner} if level % 2 else [inner]
    return inner


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({}, "give a status"),
        ({"status": 503, "body": {"x": _nested(64)}}, "nested too deeply: at most 64"),
        ({"status": 503, "body": {"x": _nested(5000)}}, "nested too deeply"),
        ({"status": 199}, "200 to 599"),
        ({"status": 600}, "200 to 599"),
        ({"status": True}, "200 to 599"),
        ({"status": 503, "close": True}, "not both"),
        ({"status": 503, "count": 0}, "positive"),
        ({"status": 503, "fraction": 1.5}, "(0, 1]"),
        ({"status": 503, "retry_after": -1}, "retry_after must be whole seconds from 0 to 86400"),
        ({"status": 503, "retry_after": "soon"}, "HTTP date"),
        ({"status": 503, "retry_after": 1.5}, "whole seconds"),
        ({"status": 503, "retry_after": "1.5"}, "whole seconds"),
        ({"status": 503, "retry_after": 1e308}, "from 0 to 86400"),
        ({"status": 503, "retry_after": "9" * 5000}, "from 0 to 86400"),
        ({"status": 503, "retry_after": 86401}, "from 0 to 86400"),
        ({"status": 503, "retry_after": float("nan")}, "whole seconds"),
        ({"status": 503, "retry_after": True}, "whole seconds"),
        ({"delay_ms": -5}, "delay_ms"),
        ({"delay_ms": 10, "retry_after": 1}, "goes with a status"),
        ({"close": True, "body": "x"}, "goes with a status"),
    ],
)
def test_impossible_rules_are_refused(options: dict[str, Any], complaint: str) -> None:
    with pytest.raises(
        FaultError, match=complaint.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    ):
        Faults().add(**options)


def test_a_body_nested_up_to_the_limit_is_answered() -> None:
    rule = Faults().add(status=503, body={"x": _nested(63)})
    assert rule.to_dict()["body"] == {"x": _nested(63)}


def test_retry_after_takes_whole_seconds_or_an_http_date() -> None:
    faults = Faults()
    assert faults.fail_next(status=429, retry_after=2).retry_after == "2"
    # JSON's 2.0 is the number 2 (the HTTP API passes on what it parsed, beyond the Python signature)
    assert faults.fail_next(status=429, retry_after=2.0).retry_after == "2"  # type: ignore[arg-type]
    assert faults.fail_next(status=429, retry_after=" 120 ").retry_after == "120"
    assert faults.fail_next(status=429, retry_after=0).retry_after == "0"
    assert faults.fail_next(status=429, retry_after=86400).retry_after == "86400"
    date = "Wed, 21 Oct 2037 07:28:00 GMT"
    assert faults.fail_next(status=429, retry_after=date).retry_after == date


def test_message_ids_of_a_call_or_a_batch() -> None:
    assert message_ids(TRACK) == ["m-1"]
    assert message_ids(batch("a", "b") | {"batch": [*batch("a", "b")["batch"], {"no": "id"}, 3]}) == ["a", "b"]
    assert message_ids({"type": "track"}) == []


# -- the journal's count of faulted attempts ------------------------------------------------------


def test_failed_attempts_count_into_the_call_that_comes_through() -> None:
    journal = Journal()
    journal.count_failed_attempt("k", ["m-1", "m-2"])
    journal.count_failed_attempt("k", ["m-1"])
    with MockPipeServer(journal=journal) as server:
        post_once(server, "/v1/batch", batch("m-1", "m-2", "m-3"))
        attempts = {call.message_id: journal.attempts(call.id) for call in server.calls(write_key="k")}
    assert attempts == {"m-1": 3, "m-2": 2, "m-3": 1}


def test_a_failed_attempt_after_the_call_arrived_counts_too(server: MockPipeServer, client: Client) -> None:
    client.post("/v1/track", TRACK, key="k")
    [call] = server.calls(write_key="k")
    server.journal.count_failed_attempt("k", ["m-1"])
    assert server.journal.attempts(call.id) == 2


def test_failed_attempts_are_bounded_and_cleared() -> None:
    journal = Journal()
    journal.count_failed_attempt("k", (f"m-{i}" for i in range(MAX_FAILED_ATTEMPTS + 5)))
    journal.count_failed_attempt("other", ["m-0"])
    journal.clear("k")
    journal.count_failed_attempt("k", ["m-1"])  # after the clear, the earlier attempts are forgotten
    partition = journal._partitions["k"]
    assert partition.failed_attempts == {"m-1": 1}
    journal.clear()
    assert journal._partitions == {}


# -- over a real socket ---------------------------------------------------------------------------


def test_a_status_fault_answers_with_retry_after_and_a_coded_error(server: MockPipeServer, client: Client) -> None:
    server.faults.fail_next(2, status=429, retry_after=1, write_key="k")
    answers = [client.post("/v1/batch", batch("m-1"), key="k") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["retry-after"] == "1"
    error = answers[0].json()
    assert error["code"] == "fault.injected" and "429" in error["message"]  # Python SDKs need `code`
    assert answers[0].headers["access-control-allow-origin"] == "*"  # browsers can read the answer

    [call] = server.calls(write_key="k")
    assert server.journal.attempts(call.id) == 3
    requests = server.requests()
    assert [(r.status, r.accepted, r.call_ids) for r in requests] == [
        (429, False, ()),
        (429, False, ()),
        (200, True, (call.id,)),
    ]
    assert requests[0].fault is not None and requests[0].fault.endswith("status 429, Retry-After 1")
    assert requests[0].reason is None  # a fault is not the client's mistake
    assert requests[2].fault is None
    shown = client.get("/mockpipe/calls", writeKey="k").json()["calls"]
    assert shown[0]["attempts"] == 3


def test_a_fault_finds_the_write_key_in_the_body(server: MockPipeServer, client: Client) -> None:
    server.faults.fail_next(1, status=503, write_key="browser-key")
    answer = client.post(
        "/v1/t", {**TRACK, "writeKey": "browser-key"}, key=None, headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 503
    assert server.requests()[0].write_key == "browser-key" and server.calls() == []


def test_a_2xx_fault_is_answered_only_when_asked_and_takes_no_call(server: MockPipeServer, client: Client) -> None:
    server.faults.fail_next(1, status=202, write_key="k")
    answer = client.post("/v1/track", TRACK, key="k")
    assert (answer.status_code, answer.json()) == (202, {})
    assert server.calls(write_key="k") == []


def test_a_custom_body_is_answered_as_given(server: MockPipeServer, client: Client) -> None:
    server.faults.fail_next(1, status=400, body="bad", write_key="k")
    server.faults.fail_next(1, status=400, body={"error": "no code"}, write_key="k")
    text = client.post("/v1/track", TRACK, key="k")
    coded = client.post("/v1/track", TRACK, key="k")
    assert (text.text, text.headers["content-type"]) == ("bad", "text/plain; charset=utf-8")
    assert coded.json() == {"error": "no code"}


def test_a_delay_answers_as_usual_but_late(server: MockPipeServer, client: Client) -> None:
    server.faults.delay(150, write_key="k", count=1)
    started = time.perf_counter()
    answer = client.post("/v1/track", TRACK, key="k")
    elapsed = time.perf_counter() - started
    fast = client.post("/v1/track", {**TRACK, "messageId": "m-2"}, key="k")
    assert answer.status_code == 200 and fast.status_code == 200
    assert elapsed >= 0.15
    assert len(server.calls(write_key="k")) == 2  # a delayed call is taken
    assert [r.fault for r in server.requests()] == [server.requests()[0].fault, None]
    assert "delay 150 ms" in (server.requests()[0].fault or "")


def test_a_delay_keeps_strict_answers() -> None:
    with MockPipeServer(strict=True) as server:
        server.faults.delay(1)
        answer = post_once(server, "/v1/track", {"type": "track", "userId": "u1"})  # no event
    assert answer.status_code == 400 and answer.json()["code"] == "spec.violation"
    assert server.requests()[0].fault is not None


def test_delays_in_flight_are_answered_when_the_server_stops(caplog: pytest.LogCaptureFixture) -> None:
    server = MockPipeServer().start()
    server.faults.delay(60_000, write_key="k")
    server.faults.fail_next(1, status=429, retry_after=3, delay_ms=60_000, write_key="k2")
    both_held = threading.Event()

    def held(request: RequestRecord, calls: list[Call]) -> None:
        if len(server.requests()) == 2:
            both_held.set()

    unsubscribe = server.journal.subscribe(held)
    with ThreadPoolExecutor(2) as pool, closing(Client(server)) as client:
        delayed = pool.submit(client.post, "/v1/track", TRACK, key="k")
        failing = pool.submit(client.post, "/v1/track", TRACK, key="k2")
        assert both_held.wait(5)  # both journaled: their answers wait out the delays
        started = time.perf_counter()
        server.stop()
        stopped_in = time.perf_counter() - started
        answers = delayed.result(5), failing.result(5)
    unsubscribe()
    # Answered as without the delay (not a 500 with a CancelledError), and at once.
    assert (answers[0].status_code, answers[0].json()) == (200, {})
    assert (answers[1].status_code, answers[1].headers["retry-after"]) == (429, "3")
    assert stopped_in < 2
    assert not [r for r in caplog.records if r.exc_info or "Cancelled" in r.getMessage()]

    # A restarted server delays again.
    server.faults.clear()
    server.faults.delay(100, write_key="k")
    with server, closing(Client(server)) as client:
        started = time.perf_counter()
        assert client.post("/v1/track", {**TRACK, "messageId": "m-2"}, key="k").status_code == 200
        assert time.perf_counter() - started >= 0.1


def _raw_post(server: MockPipeServer, body: bytes, key: str = "k") -> bytes:
    """POST on a bare socket and return every byte the server sent before closing."""
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n{'Authorization: ' + basic(key)['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + body)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


def test_close_drops_the_connection_without_a_status_line(server: MockPipeServer) -> None:
    server.faults.drop_next(1, write_key="k")
    assert _raw_post(server, orjson.dumps(batch("m-1"))) == b""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("POST", "/v1/batch", orjson.dumps(batch("m-1")), {**basic("k")})
    assert connection.getresponse().status == 200  # the rule is spent; the server serves on
    connection.close()
    [request, _] = server.requests()
    assert (request.status, request.fault) == (0, request.fault) and "close" in (request.fault or "")
    [call] = server.calls(write_key="k")
    assert server.journal.attempts(call.id) == 2


def test_httpx_sees_a_closed_connection_as_a_network_error(server: MockPipeServer, client: Client) -> None:
    server.faults.drop_next(1, write_key="k")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        client.post("/v1/track", TRACK, key="k")


def test_close_falls_back_to_a_truncated_answer(server: MockPipeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_module, "_abort_transport", lambda scope: False)
    server.faults.drop_next(1, write_key="k")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("POST", "/v1/batch", orjson.dumps(batch("m-1")), {**basic("k")})
    response = connection.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    connection.close()


def test_the_connection_is_only_reached_through_hypercorn() -> None:
    assert delivery_module._abort_transport({"type": "http", "extensions": {}}) is False
    assert delivery_module._abort_transport({"type": "http"}) is False


# -- the HTTP API -------------------------------------------------------------------------------


def test_faults_over_http(server: MockPipeServer, client: Client) -> None:
    created = client.http.post("/mockpipe/faults", json={"writeKey": "k", "status": 503, "count": 2, "retryAfter": 1})
    assert created.status_code == 201
    rule = created.json()["fault"]
    assert rule | {"id": 0} == {
        "id": 0,
        "writeKey": "k",
        "action": "status",
        "status": 503,
        "retryAfter": "1",
        "delayMs": 0,
        "remaining": 2,
        "fraction": None,
        "seed": None,
        "body": None,
        "hits": 0,
        "description": f"fault {rule['id']}: status 503, Retry-After 1",
    }
    client.http.post("/mockpipe/faults", json={"writeKey": "other", "action": "close", "all": True})
    client.http.post("/mockpipe/faults", json={"delayMs": 5, "fraction": 0.5, "seed": 3})

    assert client.post("/v1/track", TRACK, key="k").status_code == 503
    listed = client.get("/mockpipe/faults", writeKey="k").json()
    assert [(f["writeKey"], f["remaining"], f["fraction"]) for f in listed["faults"]] == [
        ("k", 1, None),
        (None, None, 0.5),
    ]
    assert listed["faults"][0]["hits"] == 1
    assert client.get("/mockpipe/faults").json()["count"] == 3

    assert client.http.delete(f"/mockpipe/faults/{rule['id']}").json() == {"deleted": 1}
    assert client.http.delete(f"/mockpipe/faults/{rule['id']}").status_code == 404
    assert client.http.delete("/mockpipe/faults", params={"writeKey": "other"}).json() == {"deleted": 1}
    assert client.http.delete("/mockpipe/faults").json() == {"deleted": 1}
    assert not server.faults.active


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"[1]", "JSON object"),
        (b"{", "not JSON"),
        (b'{"status": 503, "cuont": 2}', "unknown field"),
        (b'{"status": 503, "count": 2, "all": true}', "not both"),
        (b'{"action": "explode"}', "action must be"),
        (b'{"action": "close", "status": 503}', "does not go"),
        (b'{"action": "status"}', "needs a status"),
        (b'{"writeKey": "", "status": 503}', "writeKey"),
        (b'{"status": "503"}', "200 to 599"),
        (b'{"status": 503, "seed": "x"}', "seed"),
        (b'{"status": 503, "all": "yes"}', "true or false"),
        (b'{"status": 429, "retryAfter": 1.5}', "retryAfter must be whole seconds from 0 to 86400"),
        (b'{"status": 429, "retryAfter": 1e308}', "retryAfter must be whole seconds"),
        (b'{"status": 429, "retryAfter": -1}', "retryAfter must be whole seconds"),
        (b'{"status": 429, "retryAfter": "tomorrow"}', "retryAfter must be whole seconds"),
        (b'{"delayMs": 10, "retryAfter": 1}', "retryAfter goes with a status"),
        (b'{"delayMs": -1}', "delayMs must be an integer from 0 to 300000"),
        (b'{"status": 503, "delayMs": 2.5}', "delayMs must be an integer"),
        (b'{"action": "delay"}', 'give a status, action "close", or a delay (delayMs)'),
        (b'{"status": 503, "count": 0}', 'or "all": true for every request'),
    ],
)
def test_bad_fault_requests_are_refused(client: Client, body: bytes, complaint: str) -> None:
    answer = client.http.post("/mockpipe/faults", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert answer.json()["code"] == "fault.invalid" and complaint in message
    assert "retry_after" not in message and "delay_ms" not in message  # the HTTP API's own field names
    assert len(message) < 200
