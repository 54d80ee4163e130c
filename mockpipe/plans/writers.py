"""Writing a plan in the other formats mockpipe imports: Segment's rules list, RudderStack YAML, JSON Schema files.

Each writer's output reads back through the matching importer (`load_plan`) into the same events and
properties. What a format cannot say is left out and reported in the `omitted` list each returns:
RudderStack's catalog and a folder of JSON Schemas name track events only, so named page and screen
rules are left out of them; a RudderStack property of an array keeps the type of its items only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson
import yaml

from mockpipe.plans.model import Plan, PlanRule, section_schema

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
WRITE_FORMATS = ("mockpipe", "jsonschema", "segment", "rudderstack")


def _json(data: Any) -> str:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def _ordered(plan: Plan) -> list[PlanRule]:
    return sorted((r for r in plan.rules), key=lambda r: (r.kind, r.name or ""))


def _dialect(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"$schema": DRAFT_07, **schema} if "$schema" not in schema else dict(schema)


# -- Segment: the Public API rules list -----------------------------------------------------------


def segment_rules_text(plan: Plan) -> tuple[str, list[str]]:
    """The plan as Segment's rules list `{"rules": [{key, type, version, jsonSchema}]}` (draft-07)."""
    rules = [
        {
            "key": rule.name,
            "type": rule.kind.upper(),
            "version": int(_version(rule)),
            "jsonSchema": _dialect(rule.schema),
        }
        for rule in _ordered(plan)
    ]
    return _json({"rules": rules}), []


def _version(rule: PlanRule) -> int:
    return int(rule.version) if rule.version and rule.version.isdigit() else 1


# -- a folder of JSON Schema files, one per event ------------------------------------------------


def jsonschema_files(plan: Plan) -> tuple[dict[str, str], list[str]]:
    """File name -> text: one whole-call schema per track event, `identify.json`, `group.json`."""
    files: dict[str, str] = {}
    omitted: list[str] = []
    for rule in _ordered(plan):
        if rule.kind not in ("track", "identify", "group"):
            omitted.append(f"{rule.key}: a folder of JSON Schemas describes track events, identify and group only")
            continue
        title = rule.name if rule.kind == "track" else rule.kind
        assert title is not None
        name = _file_name(title, files)
        files[name] = _json({**_dialect(rule.schema), "title": title})
    return files, omitted


def _file_name(title: str, taken: Mapping[str, str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", title).strip("._") or "event"
    name, number = f"{stem}.json", 2
    while name in taken:
        name, number = f"{stem}-{number}.json", number + 1
    return name


# -- RudderStack: the data catalog YAML of rudder-cli --------------------------------------------


def rudderstack_text(plan: Plan, *, name: str = "contract") -> tuple[str, list[str]]:
    """The plan as RudderStack data catalog documents (rudder/v1): properties, events, tracking-plan."""
    properties: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    omitted: list[str] = []
    for rule in _ordered(plan):
        if rule.kind in ("page", "screen") and rule.name is not None:
            omitted.append(f"{rule.key}: RudderStack's catalog names track events only")
            continue
        if rule.kind == "common":
            omitted.append(f"{rule.key}: RudderStack's tracking plans have no rules over every call")
            continue
        event_id = _ident("event", rule.key)
        events.append({"id": event_id, "name": rule.name or rule.kind, "event_type": rule.kind})
        section = section_schema(rule) or {}
        entries = _entries(section, properties, omitted, rule.key)
        rules.append(
            {"type": "event_rule", "id": _ident("rule", rule.key), "event": f"#event:{event_id}", "properties": entries}
        )
    docs = [
        _doc("properties", f"{name}-properties", {"properties": [properties[k] for k in sorted(properties)]}),
        _doc("events", f"{name}-events", {"events": events}),
        _doc("tracking-plan", name, {"id": name, "display_name": name, "rules": rules}),
    ]
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, width=4096), omitted


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"version": "rudder/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def _ident(prefix: str, text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or prefix
    return f"{slug}_{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _entries(
    schema: Mapping[str, Any], catalog: dict[str, dict[str, Any]], omitted: list[str], where: str
) -> list[dict[str, Any]]:
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return []
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    entries = []
    for key in sorted(props):
        sub = props[key]
        if not key or not isinstance(sub, Mapping):
            omitted.append(f"{where}: property {key!r} (no name, or not a schema)")
            continue
        item = _property(key, sub)
        catalog.setdefault(item["id"], item)
        entry: dict[str, Any] = {"property": f"#property:{item['id']}", "required": key in (required or [])}
        nested = _entries(sub, catalog, omitted, f"{where}.{key}") if "properties" in sub else []
        if nested:
            entry["properties"] = nested
        entries.append(entry)
    return entries


def _property(key: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"name": key}
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else list(declared) if isinstance(declared, list) else []
    if types:
        item["type"] = ",".join(sorted(types))
    config = {k: schema[k] for k in ("enum", "format", "pattern", "minimum", "maximum") if k in schema}
    items = schema.get("items")
    if isinstance(items, Mapping) and isinstance(items.get("type"), str | list):
        item_types = items["type"] if isinstance(items["type"], list) else [items["type"]]
        config["item_types"] = sorted(item_types)
    if config:
        item["config"] = config
    slug = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")[:40] or "property"
    digest = hashlib.sha1(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()[:8]
    item["id"] = f"{slug}_{digest}"  # one catalog entry per name and type: events may disagree on a type
    return item


def write_plan(plan: Plan, fmt: str) -> tuple[dict[str, str] | str, list[str]]:
    """The plan in a format: its text (a dict of file name -> text for `jsonschema`), and what was left out."""
    from mockpipe.plans.export import dump_plan

    if fmt == "mockpipe":
        return dump_plan(plan, "yaml", with_source=False, compact=True), []
    if fmt == "segment":
        return segment_rules_text(plan)
    if fmt == "rudderstack":
        return rudderstack_text(plan)
    if fmt == "jsonschema":
        return jsonschema_files(plan)
    raise ValueError(f"no plan writer for {fmt!r}: use {', '.join(WRITE_FORMATS)}")
