"""Writing a plan in mockpipe's own format (JSON or YAML), stable and sorted.

The same plan always gives the same bytes: keys sorted, rules sorted by name, schemas written back
as their sections (`properties`, `traits`, `context`) when the whole-call schema is only a wrapper of
them, else as `schema`. Contract snapshots build on this output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import yaml

from mockpipe.plans.fields import fields_from_schema
from mockpipe.plans.model import Plan, PlanRule, wrap_section

_SECTIONS = ("properties", "traits", "context")


def plan_to_data(plan: Plan, *, with_source: bool = True, compact: bool = False) -> dict[str, Any]:
    """The plan as mockpipe's own format, as data (the format's JSON Schema: `plan_json_schema()`).

    `compact` writes a rule's properties (traits) as field lines (`mockpipe.plans.fields`) when they
    say nothing field lines cannot: one line per property, as contract snapshots want.
    """
    out: dict[str, Any] = {"mockpipe_plan": 1}
    if plan.name:
        out["name"] = plan.name
    if plan.description:
        out["description"] = plan.description
    out["allow_unplanned_events"] = plan.allow_unplanned_events
    out["allow_unplanned_properties"] = plan.allow_unplanned_properties
    if plan.severities:
        out["severities"] = dict(plan.severities)
    if with_source:
        out["source"] = plan.source.to_dict()
    for rule in sorted(plan.rules, key=lambda r: (r.kind, r.name or "")):
        body = _rule(rule, with_source, compact)
        if rule.kind in ("track", "page", "screen"):
            out.setdefault(rule.kind, {})["*" if rule.name is None else rule.name] = body
        elif rule.kind == "common":
            out.setdefault("common", []).append(body)
        else:
            out[rule.kind] = body
    return out


def dump_plan(plan: Plan, fmt: str = "yaml", *, with_source: bool = True, compact: bool = False) -> str:
    """The plan in mockpipe's own format as `yaml` or `json` text, keys sorted."""
    data = plan_to_data(plan, with_source=with_source, compact=compact)
    if fmt == "json":
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    if fmt == "yaml":
        dumped: str = yaml.safe_dump(data, sort_keys=True, allow_unicode=True, default_flow_style=False, width=120)
        return dumped
    raise ValueError(f"no plan export format {fmt!r}: use yaml or json")


def _rule(rule: PlanRule, with_source: bool, compact: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if rule.description:
        body["description"] = rule.description
    if rule.version is not None:
        body["version"] = rule.version
    if rule.allow_unplanned is not None:
        body["allow_unplanned"] = rule.allow_unplanned
    sections = _sections(rule.schema)
    if sections is None:
        body["schema"] = dict(rule.schema)
    else:
        if compact and rule.section in sections:
            lines = fields_from_schema(sections[rule.section])
            if lines is not None:
                del sections[rule.section]
                sections["fields"] = lines
        body.update(sections)
    if with_source:
        body["source"] = rule.source.to_dict()
    return body


def _sections(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The section schemas a whole-call schema wraps, when rewrapping them gives it back exactly."""
    if not schema:
        return {}
    props = schema.get("properties")
    if not isinstance(props, Mapping) or not props or set(props) - set(_SECTIONS):
        return None
    if not all(isinstance(value, Mapping) for value in props.values()):
        return None
    first, *others = props
    dialect = schema.get("$schema")
    rebuilt = wrap_section(first, props[first], dialect=dialect, extra={k: props[k] for k in others})
    if rebuilt != dict(schema):
        return None
    sections = {key: dict(value) for key, value in props.items()}
    if dialect:  # the dialect rides on the first section in sorted order, wherever the schema had it
        lead = min(sections)
        sections[lead] = {"$schema": dialect, **sections[lead]}
    return sections
