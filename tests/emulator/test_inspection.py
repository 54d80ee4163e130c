"""The inspection API under /mockpipe/."""

from __future__ import annotations

import threading

import pytest

from mockpipe import RULES, MockPipeServer, __version__
from tests.conftest import Client

TRACK = {"userId": "u1", "event": "Signed Up"}


@pytest.fixture
def filled(client: Client) -> Client:
    client.post("/v1/track", TRACK, key="k1")
    client.post("/v1/track", {"anonymousId": "a1", "event": "Viewed"}, key="k1")
    client.post("/v1/identify", {"userId": "u2"}, key="k2")
    client.post("/v1/track", {"userId": "u1"}, key="k1")  # invalid: no event
    client.post("/v1/track", content=b"{oops", key="k1")  # rejected
    return client


def test_health(client: Client) -> None:
    body = client.get("/mockpipe/health").json()
    assert body["status"] == "ok" and body["version"] == __version__ and body["region"] == "us"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 4),
        ({"writeKey": "k1"}, 3),
        ({"type": "identify"}, 1),
        ({"event": "Viewed"}, 1),
        ({"userId": "u1"}, 2),
        ({"anonymousId": "a1"}, 1),
        ({"valid": "false"}, 1),
        ({"valid": "true", "writeKey": "k1"}, 2),
    ],
)
def test_call_filters(filled: Client, params: dict[str, str], expected: int) -> None:
    body = filled.get("/mockpipe/calls", **params).json()
    assert body["count"] == expected == len(body["calls"])


def test_call_shape(filled: Client) -> None:
    call = filled.get("/mockpipe/calls", writeKey="k1", valid="false").json()["calls"][0]
    assert set(call) >= {
        "id",
        "requestId",
        "writeKey",
        "type",
        "receivedAt",
        "region",
        "path",
        "valid",
        "violations",
        "payload",
        "messageId",
        "attempts",
        "duplicateOf",
        "accepted",
    }
    assert call["violations"][0]["code"] == "track.event.required"
    assert filled.get(f"/mockpipe/calls/{call['id']}").json() == call
    assert filled.get("/mockpipe/calls/999999").status_code == 404


def test_paging(client: Client) -> None:
    for n in range(5):
        client.post("/v1/track", {**TRACK, "event": f"E{n}"})
    first = client.get("/mockpipe/calls", limit=2).json()
    second = client.get("/mockpipe/calls", limit=2, after=first["next"]).json()
    last = client.get("/mockpipe/calls", limit=2, after=second["next"]).json()
    events = [c["payload"]["event"] for page in (first, second, last) for c in page["calls"]]
    assert events == [f"E{n}" for n in range(5)] and last["next"] is None


def test_bad_query_is_a_400(client: Client) -> None:
    response = client.get("/mockpipe/calls", valid="perhaps")
    assert response.status_code == 400 and response.json()["code"] == "query.invalid"
    assert client.get("/mockpipe/calls/wait", timeout="-1").status_code == 400


def test_requests_include_rejected_ones(filled: Client) -> None:
    body = filled.get("/mockpipe/requests", accepted="false").json()
    assert [r["reason"] for r in body["requests"]] == ["request.json.invalid"]
    assert body["requests"][0]["body"] == "{oops"
    assert filled.get("/mockpipe/requests", writeKey="k2").json()["count"] == 1
    request_id = body["requests"][0]["id"]
    assert filled.get(f"/mockpipe/requests/{request_id}").json()["status"] == 200


def test_delete_one_key_or_all(filled: Client, server: MockPipeServer) -> None:
    assert filled.http.delete("/mockpipe/calls", params={"writeKey": "k2"}).json() == {"deleted": 1}
    assert {c.write_key for c in server.calls()} == {"k1"}
    assert filled.http.delete("/mockpipe/calls").json() == {"deleted": 3}
    assert server.calls() == [] and server.requests() == []


def test_long_poll_returns_when_calls_arrive(client: Client) -> None:
    timer = threading.Timer(0.2, lambda: client.post("/v1/track", {**TRACK, "event": "Late"}, key="kw"))
    timer.start()
    body = client.get("/mockpipe/calls/wait", count=1, timeout=10, writeKey="kw", event="Late").json()
    timer.join()
    assert body["timedOut"] is False and body["count"] == 1
    assert body["calls"][0]["payload"]["event"] == "Late"


def test_long_poll_times_out_with_what_there_is(client: Client) -> None:
    client.post("/v1/track", TRACK, key="kw")
    body = client.get("/mockpipe/calls/wait", count=3, timeout=0.2, writeKey="kw").json()
    assert body["timedOut"] is True and body["count"] == 1


def test_long_poll_for_another_run_answers_at_once_naming_this_one(client: Client) -> None:
    # A follower's cursor from before a restart: its ids are not this run's, so nothing is waited for.
    run = client.get("/mockpipe/health").json()["instance"]
    foreign = client.get("/mockpipe/calls/wait", count=1, timeout=60, after=50, instance="an-earlier-run").json()
    assert foreign["timedOut"] is True and foreign["count"] == 0 and foreign["instance"] == run
    client.post("/v1/track", TRACK, key="kw")
    own = client.get("/mockpipe/calls/wait", count=1, timeout=10, instance=run, writeKey="kw").json()
    assert own["timedOut"] is False and own["count"] == 1 and own["instance"] == run


def test_source_test_connection(client: Client) -> None:
    assert client.get("/mockpipe/sources/k9").json()["connected"] is False
    client.post("/v1/track", content=b"not json", key="k9")
    assert client.get("/mockpipe/sources/k9").json()["connected"] is False
    client.post("/v1/track", TRACK, key="k9")
    client.post("/v1/page", {"userId": "u1"}, key="k9")
    status = client.get("/mockpipe/sources/k9").json()
    assert status["connected"] is True and status["calls"] == 2 and status["byType"] == {"track": 1, "page": 1}
    assert status["firstReceivedAt"] <= status["lastReceivedAt"]


def test_rules_endpoint_lists_the_catalogue(client: Client) -> None:
    from mockpipe.plans import PLAN_RULES

    body = client.get("/mockpipe/rules").json()
    assert [r["code"] for r in body["rules"]] == [*RULES, *PLAN_RULES]
    unplanned = next(r for r in body["rules"] if r["code"] == "plan.event.unplanned")
    assert unplanned["severity"] == "warning" and unplanned["appliesTo"] == ["track", "page", "screen"]
    assert {r["code"] for r in body["rejections"]} >= {"auth.missing", "request.json.invalid"}


def test_cors_preflight_and_headers(client: Client) -> None:
    preflight = client.http.options(
        "/v1/t",
        headers={
            "Origin": "http://127.0.0.1:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    posted = client.post("/v1/t", TRACK, headers={"Origin": "http://127.0.0.1:3000"})
    assert posted.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    assert "access-control-allow-origin" not in client.get("/mockpipe/health").headers  # only for allowed origins
    assert client.post("/v1/t", content=b"{bad").headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("path", "integration"),
    [
        ("/v1/projects/wk_1/settings", "Customer.io Data Pipelines"),
        ("/segment/v1/projects/wk_1/settings", "Segment.io"),
    ],
)
def test_browser_settings(client: Client, server: MockPipeServer, path: str, integration: str) -> None:
    settings = client.get(path).json()
    assert list(settings["integrations"]) == [integration]
    entry = settings["integrations"][integration]
    assert entry == {**entry, "apiKey": "wk_1", "apiHost": f"127.0.0.1:{server.port}/v1", "protocol": "http"}
    assert settings["metrics"]["sampleRate"] == 0 and settings["remotePlugins"] == []
    other_host = client.http.get(path, headers={"Host": f"localhost:{server.port}"}).json()
    assert other_host["integrations"][integration]["apiHost"] == f"localhost:{server.port}/v1"


def test_stop_answers_pending_long_polls(server: MockPipeServer) -> None:
    answers: list[dict[str, object]] = []
    client = Client(server)
    run = client.get("/mockpipe/health").json()["instance"]
    waiting = threading.Thread(
        target=lambda: answers.append(client.get("/mockpipe/calls/wait", count=1, timeout=60, writeKey="nobody").json())
    )
    waiting.start()
    for _ in range(500):  # until the long-poll is parked on the server
        if server.journal.pending_waits:
            break
        threading.Event().wait(0.01)
    server.stop()
    waiting.join(5)
    client.close()
    assert answers == [{"calls": [], "count": 0, "total": 0, "next": None, "timedOut": True, "instance": run}]
    server.start()


def test_foreign_pages_cannot_read_or_wipe_the_journal(client: Client) -> None:
    client.post("/v1/t", TRACK)
    evil = {"Origin": "https://evil.example"}
    preflight = client.http.options("/mockpipe/calls", headers={**evil, "Access-Control-Request-Method": "DELETE"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    read = client.http.get("/mockpipe/calls", headers=evil)
    assert read.status_code == 403 and read.json()["code"] == "origin.forbidden"
    assert "access-control-allow-origin" not in read.headers
    assert client.http.delete("/mockpipe/calls", headers=evil).status_code == 403
    assert len(client.server.journal) == 1
    local = client.http.get("/mockpipe/calls", headers={"Origin": "http://localhost:5173"})
    assert local.headers["access-control-allow-origin"] == "http://localhost:5173"
    # the tracking and settings endpoints stay open to every origin, as browser SDKs need
    assert client.post("/v1/t", TRACK, headers=evil).headers["access-control-allow-origin"] == "https://evil.example"
    settings = client.http.get("/v1/projects/k1/settings", headers=evil)
    assert settings.headers["access-control-allow-origin"] == "https://evil.example"


def test_a_misspelt_filter_is_refused(client: Client) -> None:
    response = client.get("/mockpipe/calls", user_id="u1")
    assert response.status_code == 400 and "user_id" in response.json()["message"]
    assert "userId" in response.json()["message"]
    assert client.get("/mockpipe/calls/wait", count=0, timeout=0, userId="u1").status_code == 200


def test_long_poll_limit_bounds_the_answer_not_the_count(client: Client) -> None:
    for n in range(3):
        client.post("/v1/track", {**TRACK, "event": f"E{n}"}, key="kl")
    body = client.get("/mockpipe/calls/wait", count=2, timeout=1, limit=1, writeKey="kl").json()
    assert body["timedOut"] is False and body["count"] == 1


@pytest.mark.parametrize(
    ("path", "parameter", "value", "expected"),
    [
        ("/mockpipe/calls/wait", "timeout", "abc", "a number of seconds from 0 to 300"),
        ("/mockpipe/calls/wait", "timeout", "-1", "a number of seconds from 0 to 300"),
        ("/mockpipe/calls/wait", "timeout", "nan", "a number of seconds from 0 to 300"),
        ("/mockpipe/calls/wait", "count", "x", "a whole number >= 0"),
        ("/mockpipe/calls/wait", "count", "-2", "a whole number >= 0"),
        ("/mockpipe/calls/wait", "after", "1.5", "a whole number >= 0"),
        ("/mockpipe/calls", "limit", "ten", "a whole number >= 0"),
        ("/mockpipe/calls", "after", "x", "a whole number >= 0"),
        ("/mockpipe/calls", "valid", "maybe", "true or false (also 1/0, yes/no)"),
        ("/mockpipe/requests", "limit", "x", "a whole number >= 0"),
        ("/mockpipe/requests", "after", "-1", "a whole number >= 0"),
        ("/mockpipe/requests", "status", "ok", "an HTTP status code"),
        ("/mockpipe/people", "limit", "0", "a whole number >= 1"),
        ("/mockpipe/people", "after", "x", "a whole number >= 0"),
        ("/mockpipe/objects", "limit", "x", "a whole number >= 1"),
        ("/mockpipe/objects", "after", "x", "a whole number >= 0"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it_and_what_was_expected(
    client: Client, path: str, parameter: str, value: str, expected: str
) -> None:
    # `calls/wait?timeout=abc` answered "could not convert string to float" without naming the parameter.
    response = client.get(path, **{parameter: value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "query.invalid" and body["parameter"] == parameter and body["expected"] == expected
    assert body["message"] == f"query parameter {parameter}={value!r}: expected {expected}"
