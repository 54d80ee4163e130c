"""`GET /mockpipe/contract`: the contract of the calls received so far, per write key, and its diff to a plan."""

from __future__ import annotations

from mockpipe.emulator.contract_api import ContractAPI
from mockpipe.emulator.server import MockPipeServer
from mockpipe.plans import Plan, loads_plan
from tests.conftest import Client


def _send(client: Client) -> None:
    client.post(
        "/v1/track", {"userId": "u", "event": "Order Completed", "properties": {"total": 1, "id": "a"}}, key="k1"
    )
    client.post("/v1/track", {"userId": "u", "event": "Order Completed", "properties": {"total": 2.5}}, key="k1")
    client.post("/v1/identify", {"userId": "u", "traits": {"email": "a@example.com"}}, key="k2")
    client.post("/v1/track", {"userId": "u"}, key="k1", headers={"X-Strict-Mode": "1"})  # refused: not in it


def test_the_contract_of_every_key_and_of_one(client: Client) -> None:
    _send(client)
    answer = client.get("/mockpipe/contract").json()
    assert (answer["writeKey"], answer["writeKeys"], answer["calls"]) == (None, ["k1", "k2"], 3)
    order, identify = answer["events"][1], answer["events"][0]
    assert (order["label"], order["calls"]) == ("Order Completed", 2)
    assert order["fields"] == [
        {"path": "id", "spec": "string, optional", "types": ["string"], "format": None, "required": False, "seen": 1},
        {"path": "total", "spec": "number", "types": ["number"], "format": None, "required": True, "seen": 2},
    ]
    assert identify["fields"][0]["format"] == "email"
    assert loads_plan(answer["text"]).events == ("Order Completed",)
    assert answer["plan"]["track"]["Order Completed"]["fields"] == {"id": "string, optional", "total": "number"}
    assert "diff" not in answer
    one = client.get("/mockpipe/contract", writeKey="k2").json()
    assert [e["label"] for e in one["events"]] == ["identify"] and one["writeKey"] == "k2"


def test_the_contract_file_and_bad_queries(client: Client) -> None:
    _send(client)
    response = client.get("/mockpipe/contract", format="yaml", writeKey="k1")
    assert response.headers["content-type"].startswith("application/yaml")
    assert "  Order Completed:\n    fields:\n      id: string, optional\n      total: number\n" in response.text
    for params in ({"format": "xml"}, {"write_key": "k1"}):
        bad = client.get("/mockpipe/contract", **params)
        assert bad.status_code == 400 and bad.json()["code"] == "query.invalid"


def test_with_a_plan_the_answer_holds_the_diff_from_it(client: Client, server: MockPipeServer) -> None:
    _send(client)
    plan = loads_plan(
        "mockpipe_plan: 1\ntrack:\n  Order Completed:\n    fields:\n      total: integer\n      sku: string\n"
    )
    asked: list[str | None] = []

    def plan_for(write_key: str | None) -> Plan | None:
        asked.append(write_key)
        return plan if write_key == "k1" else None

    api = ContractAPI(server.journal, plan_for)
    diff = api.answer("k1")["diff"]
    assert (diff["breaking"], diff["compatible"]) == (2, 1)
    assert [change["line"] for change in diff["changes"]] == [
        "+ Order Completed.properties.id: string, optional (property added)",
        "- Order Completed.properties.sku: string (property removed)",
        "~ Order Completed.properties.total: integer -> number (type widened)",
    ]
    assert "diff" not in api.answer("k2") and asked == ["k1", "k2"]


def test_the_server_diffs_against_the_plan_it_enforces(client: Client, server: MockPipeServer) -> None:
    """Over HTTP: the plan PUT for a key is the one the contract of that key is compared with."""
    _send(client)
    plan = "mockpipe_plan: 1\ntrack:\n  Order Completed:\n    fields:\n      total: number\n      sku: string\n"
    response = client.http.put(
        "/mockpipe/plan", content=plan.encode(), params={"writeKey": "k1"}, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text
    try:
        diff = client.get("/mockpipe/contract", writeKey="k1").json()["diff"]
        assert [change["line"] for change in diff["changes"]] == [
            "+ Order Completed.properties.id: string, optional (property added)",
            "- Order Completed.properties.sku: string (property removed)",
        ]
        assert "diff" not in client.get("/mockpipe/contract", writeKey="k2").json()
    finally:
        server.plans.drop("k1")


def test_the_contract_view_script_ships_and_parses_no_html(client: Client) -> None:
    response = client.get("/mockpipe/ui/contract.js")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in response.text
    assert '<script src="/mockpipe/ui/contract.js" defer></script>' in client.get("/mockpipe/ui").text
