"""`/mockpipe/plan` and `/mockpipe/plan/coverage`: read, replace (any format, JSON or YAML), drop, per
write key; a PUT changes the verdicts of the next calls; the same guard as the rest of `/mockpipe/`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockpipe import MockPipeServer
from mockpipe.plans import load_plan
from tests.conftest import Client
from tests.plans.conftest import SHOP_PLANS

REQUIRED = (
    "mockpipe_plan: 1\ntrack:\n  Signed Up:\n    properties:\n      type: object\n"
    "      properties: {method: {type: string}}\n      required: [method]\n"
)
YAML = {"Content-Type": "application/yaml"}
SIGNED_UP = {"userId": "u1", "event": "Signed Up", "properties": {}}


@pytest.fixture
def api() -> Iterator[Client]:
    with MockPipeServer() as server:
        client = Client(server)
        yield client
        client.close()


def _codes(client: Client, key: str = "wk_test") -> list[str]:
    assert client.post("/v1/track", SIGNED_UP, key=key).status_code == 200
    return [v["code"] for v in client.get("/mockpipe/calls").json()["calls"][-1]["violations"]]


def test_no_plan_is_a_404_with_the_error_body(api: Client) -> None:
    for path in ("/mockpipe/plan", "/mockpipe/plan/coverage"):
        answer = api.get(path)
        assert answer.status_code == 404 and answer.json()["code"] == "plan.not_found"
    assert api.http.delete("/mockpipe/plan").status_code == 404


def test_put_changes_the_verdicts_of_the_next_calls(api: Client) -> None:
    assert _codes(api) == []
    put = api.http.put("/mockpipe/plan", content=REQUIRED, headers=YAML)
    assert put.status_code == 200, put.text
    assert put.json()["source"]["origin"] == "put" and put.json()["scope"] == "default"
    assert _codes(api) == ["plan.property.required"]
    got = api.get("/mockpipe/plan").json()
    assert got["plan"]["mockpipe_plan"] == 1 and "Signed Up" in got["plan"]["track"]
    # What GET answers is mockpipe's own format: PUT back, it gives the same plan.
    again = api.http.put("/mockpipe/plan", json=got["plan"])
    assert again.status_code == 200 and again.json()["plan"] == got["plan"]
    assert api.http.delete("/mockpipe/plan").json() == {"deleted": 1, "writeKey": None}
    assert _codes(api) == []


@pytest.mark.parametrize(
    "name", sorted(n for n in SHOP_PLANS if n not in ("rudderstack-v0", "rudderstack-v1", "jsonschema"))
)
def test_put_takes_every_single_file_format(api: Client, name: str) -> None:
    body = SHOP_PLANS[name].read_bytes()
    content_type = "application/yaml" if SHOP_PLANS[name].suffix == ".yaml" else "application/json"
    answer = api.http.put("/mockpipe/plan", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 200, answer.text
    assert answer.json()["source"]["format"] == load_plan(SHOP_PLANS[name]).source.format
    assert set(answer.json()["plan"]["track"]) == {"Order Completed", "Product Viewed"}


def test_put_with_text_yaml_and_a_forced_format(api: Client) -> None:
    answer = api.http.put(
        "/mockpipe/plan", params={"format": "mockpipe"}, content=REQUIRED, headers={"Content-Type": "text/yaml"}
    )
    assert answer.status_code == 200 and answer.json()["source"]["formatForced"] == "mockpipe"


def test_a_plan_that_cannot_be_read_is_a_400_naming_the_place_and_the_plan_stays(api: Client) -> None:
    assert api.http.put("/mockpipe/plan", content=REQUIRED, headers=YAML).status_code == 200
    bad = api.http.put("/mockpipe/plan", content="mockpipe_plan: 1\ntrack: 5\n", headers=YAML)
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "plan.invalid" and body["place"] == "/track" and body["expected"]
    assert (
        api.http.put("/mockpipe/plan", content="{not json", headers={"Content-Type": "application/json"})
        .json()["place"]
        .startswith("line 1")
    )
    assert api.http.put("/mockpipe/plan", content="", headers=YAML).status_code == 400
    forced = api.http.put("/mockpipe/plan", params={"format": "avo"}, content=REQUIRED, headers=YAML)
    assert forced.status_code == 400 and "avo" in forced.json()["message"]
    assert _codes(api) == ["plan.property.required"]  # the plan in force stayed


def test_the_guard_refuses_other_bodies_and_foreign_origins(api: Client) -> None:
    plain = api.http.put("/mockpipe/plan", content=REQUIRED, headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and plain.json()["code"] == "content_type.unsupported"
    foreign = api.http.put("/mockpipe/plan", content=REQUIRED, headers={**YAML, "Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin.forbidden"
    read = api.http.get("/mockpipe/plan/coverage", headers={"Origin": "https://evil.example"})
    assert read.status_code == 403
    assert api.get("/mockpipe/plan", wk="x").status_code == 400  # a misspelt parameter


def test_per_write_key_plans_and_their_coverage(api: Client) -> None:
    assert api.http.put("/mockpipe/plan", params={"writeKey": "b"}, content=REQUIRED, headers=YAML).status_code == 200
    assert api.get("/mockpipe/plan").status_code == 404  # no default plan
    assert api.get("/mockpipe/plan", writeKey="b").json()["scope"] == "writeKey"
    assert _codes(api, key="a") == [] and _codes(api, key="b") == ["plan.property.required"]
    api.post("/v1/track", {"userId": "u1", "event": "Signed Up", "properties": {"method": "email"}}, key="b")
    coverage = api.get("/mockpipe/plan/coverage", writeKey="b").json()
    assert coverage["writeKey"] == "b" and coverage["calls"] == 2
    assert coverage["events"] == {"planned": 1, "covered": 1} and coverage["events_covered"] == 100.0
    rule = coverage["rules"][0]
    assert rule["rule"] == "track:Signed Up" and rule["properties"] == {"method": 1}
    # With a default plan too: the default's coverage counts the keys without their own plan.
    api.http.put("/mockpipe/plan", content=SHOP_PLANS["mockpipe"].read_bytes(), headers=YAML)
    api.post(
        "/v1/track", {"userId": "u1", "event": "Order Completed", "properties": {"order_id": "o", "total": 1}}, key="a"
    )
    whole = api.get("/mockpipe/plan/coverage").json()
    assert whole["calls"] == 1 and whole["events_never_sent"] == ["track:Product Viewed"]
    assert api.get("/mockpipe/plan", writeKey="a").json()["scope"] == "default"
    assert api.http.delete("/mockpipe/plan/coverage").status_code == 200
    assert api.get("/mockpipe/plan/coverage").json()["calls"] == 0
    assert api.http.delete("/mockpipe/plan", params={"writeKey": "b"}).status_code == 200
    assert api.http.delete("/mockpipe/plan", params={"writeKey": "b"}).status_code == 404
