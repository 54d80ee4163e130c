"""Export to mockpipe's own format: stable, sorted, valid against the format's schema, read back the same."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from mockpipe.plans import PlanChecker, dump_plan, load_plan, loads_plan, plan_json_schema, plan_to_data
from tests.plans.conftest import SHOP_PLANS


@pytest.mark.parametrize("name", sorted(SHOP_PLANS))
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_reads_back_as_the_same_plan(name: str, fmt: str) -> None:
    plan = load_plan(SHOP_PLANS[name])
    text = dump_plan(plan, fmt)
    again = loads_plan(text, file="exported")
    assert again.source.format == "mockpipe"
    assert {r.key: dict(r.schema) for r in again.rules} == {r.key: dict(r.schema) for r in plan.rules}
    assert {r.key: r.allow_unplanned for r in again.rules} == {r.key: r.allow_unplanned for r in plan.rules}
    assert dump_plan(again, fmt, with_source=False) == dump_plan(plan, fmt, with_source=False)


@pytest.mark.parametrize("name", sorted(SHOP_PLANS))
def test_export_is_valid_against_the_shipped_schema(name: str) -> None:
    data = plan_to_data(load_plan(SHOP_PLANS[name]))
    jsonschema_rs.validator_for(plan_json_schema()).validate(json.loads(json.dumps(data)))


def test_export_is_stable_and_sorted() -> None:
    plan = load_plan(SHOP_PLANS["mockpipe"])
    reordered = type(plan)(rules=tuple(reversed(plan.rules)), source=plan.source, name=plan.name)
    assert dump_plan(plan, "json", with_source=False) == dump_plan(reordered, "json", with_source=False)
    text = dump_plan(plan, "json")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert list(data["track"]) == ["Order Completed", "Product Viewed"]
    assert data["track"]["Order Completed"]["source"]["place"] == "/track/Order Completed"


def test_section_sugar_and_whole_call_schemas_are_written_as_such() -> None:
    plan = loads_plan(
        """
mockpipe_plan: 1
allow_unplanned_events: false
severities: {plan.property.unplanned: error}
track:
  A: {properties: {type: object, required: [x]}}
  B: {schema: {type: object, required: [context]}}
page: {"*": {}}
common: [{context: {type: object}}]
"""
    )
    data = plan_to_data(plan, with_source=False)
    assert data["track"]["A"] == {"properties": {"type": "object", "required": ["x"]}}
    assert data["track"]["B"] == {"schema": {"type": "object", "required": ["context"]}}
    assert data["page"] == {"*": {}}
    assert data["common"] == [{"context": {"type": "object"}}]
    assert data["allow_unplanned_events"] is False
    assert data["severities"] == {"plan.property.unplanned": "error"}
    again = PlanChecker(loads_plan(dump_plan(plan)))
    assert [v.code for v in again.check("track", {"event": "Z"})] == ["plan.event.unplanned"]
