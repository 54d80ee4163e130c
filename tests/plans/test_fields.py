"""The compact field notation of the own plan format: parsing, schemas, and the way back."""

from __future__ import annotations

import pytest

from mockpipe.plans import PlanError, dump_plan, loads_plan
from mockpipe.plans.fields import FieldsError, fields_from_schema, schema_from_fields, split_path

LINES = {
    "coupon": "string, optional",
    "placed_at": "string, date-time",
    "products": "array",
    "products[]": "object",
    "products[].sku": "string",
    "products[].qty": "integer, optional",
    "shipping": "null|object",
    "shipping.city": "string",
    r"a\.b": "any, optional",
}


def test_lines_make_the_json_schema_of_the_section() -> None:
    schema = schema_from_fields(LINES)
    assert schema["required"] == ["placed_at", "products", "shipping"]
    assert schema["properties"]["a.b"] == {}
    assert schema["properties"]["placed_at"] == {"type": "string", "format": "date-time"}
    items = schema["properties"]["products"]["items"]
    assert items == {
        "type": "object",
        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
        "required": ["sku"],
    }
    assert schema["properties"]["shipping"]["type"] == ["null", "object"]


def test_a_schema_of_lines_gives_the_lines_back_and_others_give_none() -> None:
    assert fields_from_schema(schema_from_fields(LINES)) == dict(LINES, **{"products[].qty": "integer, optional"})
    assert fields_from_schema({"type": "object", "properties": {"a": {"type": "string", "enum": ["x"]}}}) is None
    assert fields_from_schema({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}) is None


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("a", ["a"]),
        ("a.b", ["a", "b"]),
        ("a[][]", ["a", None, None]),
        (r"x\.y\[\]", ["x.y[]"]),
        ("a[].b", ["a", None, "b"]),
    ],
)
def test_paths_split_into_steps(path: str, steps: list[str | None]) -> None:
    assert split_path(path) == steps


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({"a.b": "string"}, "a line for its parent"),
        ({"a": "string", "a.b": "string"}, "its parent to be an object"),
        ({"a": "text"}, "JSON types"),
        ({"a": "string, sometimes"}, "`optional` or one format"),
        ({"a": "array", "a[]": "string, optional"}, "no `optional`"),
        ({"a[x]": "string"}, r"`\[\]`"),
    ],
)
def test_bad_lines_are_refused_saying_what_was_expected(lines: dict[str, str], message: str) -> None:
    with pytest.raises(FieldsError, match=message):
        schema_from_fields(lines)


def test_the_own_format_reads_fields_and_writes_them_when_compact() -> None:
    text = "mockpipe_plan: 1\ntrack:\n  Signed Up:\n    fields:\n      plan: string, optional\n      seats: integer\n"
    plan = loads_plan(text)
    assert plan.rules[0].schema == {
        "type": "object",
        "properties": {
            "properties": {
                "type": "object",
                "properties": {"plan": {"type": "string"}, "seats": {"type": "integer"}},
                "required": ["seats"],
            }
        },
        "required": ["properties"],
    }
    written = dump_plan(plan, with_source=False, compact=True)
    assert "      plan: string, optional\n      seats: integer\n" in written
    assert loads_plan(written).rules[0].schema == plan.rules[0].schema
    assert "fields" not in dump_plan(plan, with_source=False)  # the default output is unchanged


def test_identify_fields_are_traits_and_errors_name_the_line() -> None:
    plan = loads_plan("mockpipe_plan: 1\nidentify:\n  fields:\n    email: string, email\n")
    assert plan.rules[0].schema["properties"]["traits"]["properties"]["email"]["format"] == "email"
    with pytest.raises(PlanError, match=r"at /identify/fields/a\.b: expected a line for its parent"):
        loads_plan("mockpipe_plan: 1\nidentify:\n  fields:\n    a.b: string\n")
    with pytest.raises(PlanError, match="either `fields` or `traits`"):
        loads_plan("mockpipe_plan: 1\nidentify:\n  fields: {a: string}\n  traits: {type: object}\n")
