"""Plans enforced on ingest: each broken rule over HTTP (permissive and strict, single and batch), with its
code, pointer and rule named in the journal, the verdict JSON and the 400; the ingest's fast verdict held
to the full report; per-write-key plans; the plan's violations kept by the store across a restart."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from mockpipe import MockPipeServer
from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.emulator import Emulator
from mockpipe.emulator.ingest import Ingest
from mockpipe.plans import PlanChecker, load_plan, loads_plan
from tests.conftest import Client, basic
from tests.plans.conftest import SHOP_PLANS
from tests.plans.test_check import BROKEN, GROUP, IDENTIFY, ORDER

SHOP = SHOP_PLANS["mockpipe"]


@pytest.fixture(scope="module")
def shop_server() -> Iterator[MockPipeServer]:
    with MockPipeServer(plan=SHOP) as running:
        yield running


@pytest.fixture
def shop(shop_server: MockPipeServer) -> Iterator[Client]:
    shop_server.clear()
    http = Client(shop_server)
    yield http
    http.close()


def _plan_codes(violations: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(v["code"], v["path"]) for v in violations if v["code"].startswith("plan.")]


@pytest.mark.parametrize(("call_type", "call", "code", "path"), BROKEN, ids=[f"{c}:{p}" for _, _, c, p in BROKEN])
def test_each_broken_rule_over_http_permissive_and_strict(
    shop: Client, call_type: str, call: dict[str, Any], code: str, path: str
) -> None:
    single = {k: v for k, v in call.items() if k != "type"}
    answer = shop.post(f"/v1/{call_type}", single)
    assert answer.status_code == 200
    recorded = shop.get("/mockpipe/calls").json()["calls"][-1]
    assert _plan_codes(recorded["violations"]) == [(code, path)]
    found = next(v for v in recorded["violations"] if v["code"] == code)
    rule = "track:" + call["event"] if call_type == "track" else call_type
    assert found["plan"]["rule"] == rule and found["plan"]["file"] == str(SHOP)
    assert found["plan"]["format"] == "mockpipe"
    error = found["severity"] == "error"
    assert recorded["valid"] is not error

    strict = shop.post(f"/v1/{call_type}", single, headers={"X-Strict-Mode": "1"})
    assert strict.status_code == (400 if error else 200)
    if error:
        body = strict.json()
        assert body["code"] == "spec.violation"
        assert _plan_codes(body["violations"]) == [(code, path)]
        assert body["violations"][0]["plan"]["rule"] == rule

    # In a batch, the pointer moves under the item.
    batch = {"batch": [{"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}}, call]}
    assert shop.post("/v1/batch", batch).status_code == 200
    recorded = shop.get("/mockpipe/calls").json()["calls"][-1]
    assert _plan_codes(recorded["violations"]) == [(code, path)]
    request = shop.get("/mockpipe/requests").json()["requests"][-1]
    assert request["status"] == 200
    strict_batch = shop.post("/v1/batch", batch, headers={"X-Strict-Mode": "1"})
    if error:
        assert strict_batch.status_code == 400
        assert _plan_codes(strict_batch.json()["violations"]) == [(code, "/batch/1" + path)]
    else:
        assert strict_batch.status_code == 200


def test_valid_calls_break_no_plan_rule_and_spec_violations_keep_their_place(shop: Client) -> None:
    for call in (ORDER, IDENTIFY, GROUP):
        assert shop.post(f"/v1/{call['type']}", call, headers={"X-Strict-Mode": "1"}).status_code == 200
    assert all(not c["violations"] for c in shop.get("/mockpipe/calls").json()["calls"])
    # A spec error and a plan error in one call: both, the spec's first, neither with the other's fields.
    broken = {"event": "Order Completed", "properties": {"order_id": "o", "total": "x"}}
    body = shop.post("/v1/track", broken, headers={"X-Strict-Mode": "1"}).json()
    assert [v["code"] for v in body["violations"]] == ["identity.required", "plan.property.type"]
    assert "plan" not in body["violations"][0] and body["violations"][1]["plan"]["event"] == "Order Completed"
    assert body["message"].startswith("2 spec and tracking-plan violation(s)")


def test_a_strict_server_refuses_a_plan_error_and_a_warning_passes() -> None:
    with MockPipeServer(plan=SHOP, strict=True) as server:
        client = Client(server)
        try:
            refused = client.post("/v1/track", {**ORDER, "properties": {"order_id": "o"}})
            assert refused.status_code == 400
            assert _plan_codes(refused.json()["violations"]) == [("plan.property.required", "/properties/total")]
            unplanned = client.post("/v1/track", {**ORDER, "event": "Order Refunded"})
            assert unplanned.status_code == 200  # a warning: the plan allows unplanned events
            calls = server.calls()
            assert [c.accepted for c in calls] == [False, True]
            assert calls[1].warnings[0].code == "plan.event.unplanned"
        finally:
            client.close()


def test_per_write_key_plans(tmp_path: Path) -> None:
    strict_plan = loads_plan(
        "mockpipe_plan: 1\nallow_unplanned_events: false\ntrack:\n  Signed Up:\n    properties:\n"
        "      type: object\n      properties: {method: {type: string}}\n"
    )
    with MockPipeServer(plan=SHOP) as server:
        server.plans.set(strict_plan, write_key="team-b")
        assert server.plans.plan_for("team-b") is strict_plan
        assert server.plans.plan_for("team-a") is server.plans.plan_for(None)
        client = Client(server)
        try:
            order = {k: v for k, v in ORDER.items() if k != "type"}
            assert client.post("/v1/track", order, key="team-a").status_code == 200
            assert client.post("/v1/track", order, key="team-b").status_code == 200
            by_key = {c.write_key: c for c in server.calls()}
            assert by_key["team-a"].violations == ()
            assert [(v.code, v.severity) for v in by_key["team-b"].violations] == [("plan.event.unplanned", "error")]
            assert by_key["team-b"].violations[0].plan is not None
        finally:
            client.close()


def test_plan_violations_survive_a_restart_of_the_store(tmp_path: Path) -> None:
    store = tmp_path / "journal.db"
    with MockPipeServer(plan=SHOP, store=store) as server:
        client = Client(server)
        client.post("/v1/track", {**ORDER, "properties": {"order_id": 5, "total": 1}})
        client.close()
        before = server.calls()[0].to_dict()
    with MockPipeServer(store=store) as server:
        after = server.calls()[0].to_dict()
    assert after["violations"] == before["violations"]
    assert after["violations"][0]["plan"]["rule"] == "track:Order Completed"


def test_an_unreadable_plan_starts_nothing(tmp_path: Path) -> None:
    from mockpipe.plans import PlanError

    broken = tmp_path / "plan.yaml"
    broken.write_text("mockpipe_plan: 1\ntrack: [\n")
    with pytest.raises(PlanError, match=str(broken)):
        MockPipeServer(plan=broken, store=tmp_path / "journal.db")
    assert not (tmp_path / "journal.db").exists()


# -- the ingest's fast verdict held to the full report ------------------------------------------------

_CHECKER = PlanChecker(load_plan(SHOP))
_EMULATOR = Emulator.build(ServerConfig(), plan=SHOP, plan_reload=None)
_INGEST = Ingest(_EMULATOR.config, _EMULATOR.journal, _EMULATOR.faults, _EMULATOR.plans)
_HEADERS = {b"authorization": basic("wk")["Authorization"].encode()}
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["USD", "EUR", "x", "SKU-12", "ada@example.com", "o-1", "free", "pro"]),
)
_sections = st.dictionaries(
    st.sampled_from(["order_id", "total", "currency", "coupon", "sku", "email", "plan", "name", "gift"]),
    _values,
    max_size=5,
)
_items = st.tuples(
    st.sampled_from(["track", "identify", "group", "page"]),
    st.sampled_from(["Order Completed", "Product Viewed", "Other"]),
    _sections,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_items, min_size=1, max_size=4), st.booleans())
def test_the_ingest_verdicts_match_the_full_report(items: list[tuple[str, str, dict[str, Any]]], batch: bool) -> None:
    calls = []
    for call_type, event, section in items:
        call: dict[str, Any] = {"type": call_type, "userId": "u1", "event": event, "name": event}
        if call_type == "group":
            call["groupId"] = "g1"
        call["traits" if call_type in ("identify", "group") else "properties"] = section
        calls.append(call)
    sent = [calls] if batch else [[call] for call in calls]
    for group in sent:
        path = "/v1/batch" if batch else f"/v1/{group[0]['type']}"
        body = {"batch": group} if batch else group[0]
        status, _ = _INGEST.handle("POST", path, _HEADERS, orjson.dumps(body), False)
        assert status == 200
        recorded = _EMULATOR.journal.calls()[-len(group) :]
        for call, record in zip(group, recorded, strict=True):
            expected = [v.to_dict() for v in _CHECKER.report(call["type"], call)]
            assert [v.to_dict() for v in record.violations if v.plan is not None] == expected
    _EMULATOR.journal.clear()


def test_the_slow_path_through_starlette_checks_the_plan_too() -> None:
    import asyncio

    from starlette.applications import Starlette

    from mockpipe.emulator.app import create_app

    app = create_app(plan=SHOP)
    body = orjson.dumps({"userId": "u1", "event": "Order Completed", "properties": {"order_id": 1, "total": 2}})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/track",
        "raw_path": b"/v1/track",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", basic("k1")["Authorization"].encode()), (b"x-strict-mode", b"1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    # Starlette's own __call__: past the fast lane, through the middleware and the router.
    asyncio.run(Starlette.__call__(app, scope, receive, send))
    assert sent[0]["status"] == 400
    answer = orjson.loads(sent[1]["body"])
    assert [(v["code"], v["path"]) for v in answer["violations"]] == [("plan.property.type", "/properties/order_id")]
    assert app.emulator.journal.calls()[0].violations[0].plan is not None
