"""Segment's Public API (and Terraform `segment_tracking_plan`) rules list.

    [{"key": <event or page/screen name, or null>, "type": "TRACK" | "IDENTIFY" | "GROUP" | "PAGE" |
      "SCREEN" | "COMMON", "version": <int>, "jsonSchema": <draft-07 schema over the whole call>}]

as the list itself, `{"rules": [...]}`, or the API's answer `{"data": {"rules": [...], ...}}`.
Terraform spells the schema `json_schema`, often a JSON string (`jsonencode(...)`): both are read.
Several versions of one key can coexist; the highest `version` is in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import orjson

from mockpipe.plans.document import Document, check_schema, mapping, sequence
from mockpipe.plans.model import Plan, PlanRule, RuleKind

FORMAT = "segment-rules"
TYPES = {"TRACK", "IDENTIFY", "GROUP", "PAGE", "SCREEN", "COMMON"}


def _rules_of(data: Any) -> tuple[Any, str] | None:
    if isinstance(data, list):
        return data, ""
    if isinstance(data, Mapping):
        inner = data.get("data")
        if isinstance(inner, Mapping) and isinstance(inner.get("rules"), list):
            return inner["rules"], "/data/rules"
        if isinstance(data.get("rules"), list):
            return data["rules"], "/rules"
    return None


def detect(data: Any) -> bool:
    found = _rules_of(data)
    if found is None or not found[0]:
        return False
    return all(isinstance(rule, Mapping) and rule.get("type") in TYPES for rule in found[0])


def read(docs: list[Document]) -> Plan:
    doc = docs[0]
    found = _rules_of(doc.data)
    if found is None:
        raise doc.error("a list of rules [{key, type, version, jsonSchema}] (or {data: {rules: [...]}})")
    listed, base = found
    newest: dict[tuple[str, str | None], tuple[int, PlanRule]] = {}
    for index, item in enumerate(sequence(doc, listed, base)):
        place = f"{base}/{index}"
        item = mapping(doc, item, place, "a rule object {key, type, version, jsonSchema}")
        kind = item.get("type")
        if kind not in TYPES:
            raise doc.error(f"a rule type among {', '.join(sorted(TYPES))}", place + "/type")
        key = item.get("key")
        if key is not None and not isinstance(key, str):
            raise doc.error("a string key (the event name) or null", place + "/key")
        if kind == "TRACK" and not key:
            raise doc.error("the event name as the key of a TRACK rule", place + "/key")
        version = item.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise doc.error("an integer version", place + "/version")
        field = "jsonSchema" if "jsonSchema" in item else "json_schema"
        schema = item.get(field, {})
        if isinstance(schema, str):  # Terraform's jsonencode(...)
            try:
                schema = orjson.loads(schema)
            except orjson.JSONDecodeError as exc:
                raise doc.error(f"a JSON Schema written as JSON ({exc})", f"{place}/{field}") from None
        schema = check_schema(doc, schema, f"{place}/{field}")
        rule_kind = cast(RuleKind, kind.lower())
        name = key if rule_kind in ("track", "page", "screen") else None
        rule = PlanRule(rule_kind, name, schema, doc.source(FORMAT, place), item.get("description"), str(version))
        slot = (rule_kind, key)
        if slot not in newest or newest[slot][0] < version:
            newest[slot] = (version, rule)
    return Plan(rules=tuple(rule for _, rule in newest.values()), source=doc.source(FORMAT))
