"""Import: each format detected from the content, read into the same plan, refused with one precise error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockpipe.plans import PlanError, detect_format, load_plan, loads_plan, plan_from_data
from tests.plans.conftest import FIXTURES, SHOP_PLANS

EXPECTED_FORMAT = {
    "mockpipe": "mockpipe",
    "segment": "segment",
    "segment-rules": "segment-rules",
    "rudderstack-v0": "rudderstack",
    "rudderstack-v1": "rudderstack",
    "jsonschema": "jsonschema",
}


@pytest.mark.parametrize("name", sorted(SHOP_PLANS))
def test_every_format_is_detected_and_plans_the_same_calls(name: str) -> None:
    plan = load_plan(SHOP_PLANS[name])
    assert plan.source.format == EXPECTED_FORMAT[name]
    assert set(plan.events) == {"Order Completed", "Product Viewed"}
    assert plan.rule("identify") is not None and plan.rule("group") is not None
    for rule in plan.rules:
        assert rule.source.format == plan.source.format
        assert rule.source.file is not None


def test_segment_keeps_the_highest_version_of_each_event() -> None:
    for path in (SHOP_PLANS["segment"], SHOP_PLANS["segment-rules"]):
        rule = load_plan(path).rule("track", "Order Completed")
        assert rule is not None and rule.version == "2"


def test_segment_plan_json_merges_identify_and_group_traits_lists() -> None:
    plan = load_plan(SHOP_PLANS["segment"])
    identify = plan.rule("identify")
    group = plan.rule("group")
    assert identify is not None and group is not None
    traits = identify.schema["properties"]["traits"]
    assert traits["properties"]["plan"] == {"type": "string", "enum": ["free", "pro"]}
    assert traits["required"] == ["email"]  # the rule's own required traits are kept
    assert group.schema["properties"]["traits"]["required"] == ["name"]
    assert plan.rule("common") is not None
    assert identify.source.place == "/rules/identify"


def test_typewriter_local_plan_without_the_rules_wrapper() -> None:
    data = {"name": "local", "events": [{"name": "Signed Up", "rules": {"type": "object"}}]}
    plan = plan_from_data(data)
    assert plan.source.format == "segment"
    assert plan.events == ("Signed Up",)
    assert plan.rules[0].source.place == "/events/0/rules"


def test_public_api_rules_as_a_bare_list_and_terraform_json_strings() -> None:
    schema = {"properties": {"properties": {"required": ["plan"]}}}
    rules = [
        {"key": "Upgraded", "type": "TRACK", "version": 3, "json_schema": json.dumps(schema)},
        {"key": "Upgraded", "type": "TRACK", "version": 1, "json_schema": "{}"},
        {"key": "Home", "type": "PAGE", "version": 1, "jsonSchema": {}},
    ]
    plan = plan_from_data(rules)
    assert plan.source.format == "segment-rules"
    upgraded = plan.rule("track", "Upgraded")
    assert upgraded is not None and upgraded.version == "3" and upgraded.schema == schema
    assert plan.rule("page", "Home") is not None


def test_rudderstack_custom_types_multi_types_and_allow_unplanned() -> None:
    plan = load_plan(SHOP_PLANS["rudderstack-v0"])
    order = plan.rule("track", "Order Completed")
    assert order is not None
    props = order.schema["properties"]["properties"]["properties"]
    assert props["currency"] == {"type": "string", "enum": ["USD", "EUR"]}
    assert props["coupon"] == {"type": ["null", "string"]}
    assert order.allow_unplanned is True
    assert order.source.file is not None and order.source.file.endswith("tracking-plan.yaml")
    assert order.source.place == "/spec/rules/0"
    identify = plan.rule("identify")
    assert identify is not None and "traits" in identify.schema["properties"]


def test_rudderstack_nested_properties_and_variants() -> None:
    docs = """
version: rudder/v0.1
kind: events
metadata: {name: ev}
spec:
  events: [{id: paid, name: Paid, event_type: track}]
---
version: rudder/v0.1
kind: properties
metadata: {name: p}
spec:
  properties:
    - {id: method, name: method, type: string}
    - {id: card, name: card, type: object}
    - {id: last4, name: last4, type: string, propConfig: {minLength: 4, maxLength: 4}}
    - {id: iban, name: iban, type: string}
---
version: rudder/v0.1
kind: tp
metadata: {name: tp}
spec:
  id: tp
  rules:
    - type: event_rule
      id: paid
      event: {$ref: "#/events/ev/paid", allow_unplanned: false}
      properties:
        - {$ref: "#/properties/p/method", required: true}
        - $ref: "#/properties/p/card"
          properties:
            - {$ref: "#/properties/p/last4", required: true}
      variants:
        - type: discriminator
          discriminator: "#/properties/p/method"
          cases:
            - {display_name: Bank, match: [bank], properties: [{$ref: "#/properties/p/iban", required: true}]}
"""
    plan = loads_plan(docs, file="catalog.yaml")
    rule = plan.rule("track", "Paid")
    assert rule is not None and rule.allow_unplanned is False
    section = rule.schema["properties"]["properties"]
    assert section["properties"]["card"]["properties"]["last4"] == {"type": "string", "minLength": 4, "maxLength": 4}
    assert section["properties"]["card"]["required"] == ["last4"]
    assert section["allOf"][0]["then"]["required"] == ["iban"]
    assert rule.source.place == "#2/spec/rules/0"


def test_json_schema_folder_names_versions_and_whole_call_schemas() -> None:
    plan = load_plan(SHOP_PLANS["jsonschema"])
    order = plan.rule("track", "Order Completed")
    viewed = plan.rule("track", "Product Viewed")
    group = plan.rule("group")
    assert order is not None and order.version == "1.0.1"  # Iglu's self.version, newest kept
    assert order.schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert order.schema["required"] == ["properties"]  # wrapped: the schema described the properties
    assert viewed is not None and viewed.version == "1.0"  # Reflekt: name from the folder
    assert group is not None and group.schema["properties"]["traits"]["required"] == ["name"]  # whole call
    assert plan.source.file == str(FIXTURES / "jsonschema")


def test_a_single_json_schema_file_is_named_by_its_title_else_its_file_name(tmp_path: Path) -> None:
    (tmp_path / "Signed Up.json").write_text('{"type": "object", "properties": {"method": {"type": "string"}}}')
    (tmp_path / "other.json").write_text('{"title": "Logged In", "type": "object"}')
    assert set(load_plan(tmp_path).events) == {"Signed Up", "Logged In"}
    assert load_plan(tmp_path / "Signed Up.json").events == ("Signed Up",)


def test_format_argument_forces_a_format() -> None:
    data = {"type": "object", "title": "Only", "properties": {}}
    assert detect_format(data) == "jsonschema"
    with pytest.raises(PlanError, match="expected a list of rules"):
        plan_from_data(data, format="segment-rules")
    with pytest.raises(PlanError, match="a plan format among"):
        plan_from_data(data, format="avo")


@pytest.mark.parametrize(
    ("body", "place", "expected"),
    [
        ('{"mockpipe_plan": 1, "track": {"A": {"propertiez": {}}}}', "/track/A", "'propertiez'"),
        (
            "mockpipe_plan: 1\ntrack:\n  A:\n    properties: {type: 5}\n",
            "/track/A/properties/type",
            "valid JSON Schema",
        ),
        (
            "mockpipe_plan: 1\ntrack:\n  A:\n    properties: {properties: {n: {minimum: x}}}\n",
            "/track/A/properties/properties/n/minimum",
            "not of type",
        ),
        ('{"events": [{"name": "A", "rules": {"$ref": "#/nope"}}]}', "/events/0/rules", "does not exist"),
        ('{"mockpipe_plan": 1,', "line 1, column 21", "valid JSON"),
        ("track: [\n", "line 2, column 1", "valid JSON or YAML"),
        ("just: text\n", "", "a tracking plan"),
        ('{"rules": {"events": [{"rules": {}}]}}', "/rules/events/0/name", "the event's name"),
        ('[{"key": "A", "type": "TRACK", "version": "x", "jsonSchema": {}}]', "/0/version", "integer version"),
        (
            '{"rules": {"events": [{"name": "A", "rules": {"$schema": "https://example.com/mine"}}]}}',
            "/rules/events/0/rules/$schema",
            "draft-04",
        ),
    ],
)
def test_a_plan_that_cannot_be_read_names_the_file_the_place_and_what_was_expected(
    body: str, place: str, expected: str
) -> None:
    with pytest.raises(PlanError) as caught:
        loads_plan(body, file="plan.txt")
    error = caught.value
    assert error.file == "plan.txt"
    assert error.place == place
    assert expected in error.expected
    assert str(error).startswith("cannot read tracking plan plan.txt")


def test_rudderstack_errors_name_the_file_of_the_broken_reference(tmp_path: Path) -> None:
    for source in (SHOP_PLANS["rudderstack-v0"]).iterdir():
        (tmp_path / source.name).write_text(source.read_text())
    plan_file = tmp_path / "tracking-plan.yaml"
    plan_file.write_text(plan_file.read_text().replace("shop-props/sku", "shop-props/skew"))
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path)
    assert caught.value.file == str(plan_file)
    assert caught.value.place == "/spec/rules/1/properties/0"
    assert "defined in the catalog" in caught.value.expected


def test_a_missing_path_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="an existing file or folder"):
        load_plan(tmp_path / "nope.yaml")
    with pytest.raises(PlanError, match="plan files"):
        load_plan(tmp_path)


def test_mixed_formats_in_one_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"type": "object", "title": "A"}')
    (tmp_path / "b.yaml").write_text("version: rudder/v1\nkind: events\nspec: {events: []}\n")
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path)
    assert caught.value.file == str(tmp_path / "b.yaml")
