"""Any plan as facts: per event, per property path, its types, format, enum values and whether it is required.

The diff compares facts, not schemas, so a contract file, a Segment plan and a folder of JSON Schemas
compare alike. A property's facts come from the JSON Schema of the rule's section (`properties`, or
`traits` for identify and group): `type`, `format`, `enum` / `const`, `properties`, `required` and
`items`; other keywords (bounds, patterns, combinators) are not compared. Common rules describe no
event and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mockpipe.contracts.infer import EventKey
from mockpipe.contracts.shape import json_type
from mockpipe.plans.fields import format_spec, join_path
from mockpipe.plans.model import Plan, section_schema


@dataclass(frozen=True, slots=True)
class Fact:
    """What a plan says about one property: an empty `types` means any type; `enum` None means any value."""

    types: frozenset[str]
    format: str | None
    required: bool
    enum: frozenset[str] | None  # each value as compact JSON

    @property
    def spec(self) -> str:
        """The fact as a field line's value (`string, email, optional`), with its enum values if any."""
        text = format_spec(sorted(self.types), self.format, not self.required)
        if self.enum is not None:
            text += f", one of {', '.join(sorted(self.enum))}"
        return text


EventFacts = dict[str, Fact]


def plan_facts(plan: Plan) -> dict[EventKey, EventFacts]:
    """The facts of every event the plan describes (track, page, screen, identify, group)."""
    out: dict[EventKey, EventFacts] = {}
    for rule in plan.rules:
        if rule.kind == "common":
            continue
        facts: EventFacts = {}
        section = section_schema(rule)
        if section is not None:
            _object(section, "", facts)
        out.setdefault((rule.kind, rule.name), {}).update(facts)
    return out


def _types(schema: Mapping[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in declared if isinstance(t, str))
    values = _enum(schema)
    if values is not None:  # an enum without a type: the types of its values
        return frozenset(json_type(orjson.loads(value)) for value in values)
    return frozenset()


def _enum(schema: Mapping[str, Any]) -> frozenset[str] | None:
    if "const" in schema:
        return frozenset({orjson.dumps(schema["const"], option=orjson.OPT_SORT_KEYS).decode()})
    values = schema.get("enum")
    if isinstance(values, list):
        return frozenset(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() for value in values)
    return None


def _object(schema: Mapping[str, Any], path: str, out: EventFacts) -> None:
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return
    required = schema.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    for name, sub in props.items():
        if isinstance(sub, bool):
            sub = {} if sub else {"not": {}}
        if isinstance(sub, Mapping):
            _node(sub, join_path(path, str(name)), name in required_names, out)


def _node(schema: Mapping[str, Any], path: str, required: bool, out: EventFacts) -> None:
    fmt = schema.get("format")
    out[path] = Fact(_types(schema), fmt if isinstance(fmt, str) else None, required, _enum(schema))
    _object(schema, path, out)
    items = schema.get("items")
    if isinstance(items, Mapping):
        _node(items, path + "[]", True, out)
