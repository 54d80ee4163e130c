"""mockpipe's own plan format (JSON or YAML), described by the JSON Schema shipped beside this package.

mockpipe_plan: 1
allow_unplanned_events: false
track:
  Order Completed:
    properties: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
identify:
  traits: {type: object, properties: {email: {type: string, format: email}}}
group:
  fields: {plan: "string, optional"}    # the compact form: one line per property (plans/fields.py)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, cast

import jsonschema_rs

from mockpipe.plans.document import Document, check_schema, pointer
from mockpipe.plans.fields import FieldsError, schema_from_fields
from mockpipe.plans.model import SECTION, Plan, PlanRule, PlanSeverity, RuleKind, wrap_section

FORMAT = "mockpipe"
MARKER = "mockpipe_plan"
SECTIONS = ("properties", "traits", "context")


@cache
def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of mockpipe's own plan format."""
    loaded: dict[str, Any] = json.loads(resources.files("mockpipe.plans").joinpath("plan.schema.json").read_text())
    return loaded


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(plan_json_schema())


def detect(data: Any) -> bool:
    return isinstance(data, Mapping) and MARKER in data


def read(docs: list[Document]) -> Plan:
    doc = docs[0]
    data = doc.data
    if isinstance(data.get("severities"), Mapping):  # YAML 1.1 reads a bare `off` as false
        severities_in = {k: "off" if v is False else v for k, v in data["severities"].items()}
        data = {**data, "severities": severities_in}
    for error in _validator().iter_errors(data):
        place = pointer(*error.instance_path)
        raise doc.error(_expected(error), place)
    dialect = data.get("$schema")
    rules: list[PlanRule] = []
    named: tuple[RuleKind, ...] = ("track", "page", "screen")
    for kind in named:
        for name, body in data.get(kind, {}).items():
            rule_name = None if kind != "track" and name == "*" else name
            rules.append(_rule(doc, kind, rule_name, body, pointer(kind, name), dialect))
    single: tuple[RuleKind, ...] = ("identify", "group")
    for kind in single:
        if kind in data:
            rules.append(_rule(doc, kind, None, data[kind], pointer(kind), dialect))
    for index, body in enumerate(data.get("common", [])):
        rules.append(_rule(doc, "common", None, body, pointer("common", index), dialect))
    severities = cast(Mapping[str, PlanSeverity], data.get("severities", {}))
    return Plan(
        rules=tuple(rules),
        source=doc.source(FORMAT),
        name=data.get("name"),
        description=data.get("description"),
        allow_unplanned_events=data.get("allow_unplanned_events", True),
        allow_unplanned_properties=data.get("allow_unplanned_properties", True),
        severities=dict(severities),
    )


def _rule(
    doc: Document, kind: RuleKind, name: str | None, body: Mapping[str, Any], place: str, dialect: str | None
) -> PlanRule:
    if "schema" in body:
        schema = check_schema(doc, body["schema"], place + "/schema")
        if dialect and "$schema" not in schema:
            schema = {"$schema": dialect, **schema}
    else:
        sections = {key: check_schema(doc, body[key], f"{place}/{key}") for key in SECTIONS if key in body}
        if "fields" in body:
            section = SECTION[kind]
            if section in sections:
                raise doc.error(f"either `fields` or `{section}`, not both", f"{place}/fields")
            sections = {section: _fields_schema(doc, body["fields"], f"{place}/fields"), **sections}
        if not sections:
            schema = {"$schema": dialect} if dialect else {}
        else:
            first, *others = sections
            schema = wrap_section(first, sections[first], dialect=dialect, extra={k: sections[k] for k in others})
    schema = check_schema(doc, schema, place)
    version = body.get("version")
    return PlanRule(
        kind=kind,
        name=name,
        schema=schema,
        source=doc.source(FORMAT, place),
        description=body.get("description"),
        version=None if version is None else str(version),
        allow_unplanned=body.get("allow_unplanned"),
    )


def _fields_schema(doc: Document, fields: Mapping[str, Any], place: str) -> dict[str, Any]:
    try:
        return schema_from_fields(fields)
    except FieldsError as exc:
        raise doc.error(exc.expected, place + (pointer(exc.key) if exc.key else "")) from None


def _expected(error: Any) -> str:
    kind = error.kind.name
    details = error.kind.as_dict()
    if kind == "additionalProperties":
        return f"none of the keys {', '.join(map(repr, details.get('unexpected', [])))} (see plan.schema.json)"
    if kind == "required":
        return f"the key {details.get('property')!r}"
    return f"a value that matches mockpipe's plan format: {error.message}"
