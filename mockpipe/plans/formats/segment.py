"""Segment's Typewriter / Config API `plan.json`.

    {"name", "display_name", "rules": {"events": [{"name", "description", "version", "rules": <schema
    over the whole call>}], "global": <schema>, "identify": <schema>, "group": <schema>,
    "identify_traits": [...], "group_traits": [...]}}

Typewriter's local copies sometimes drop the `rules` wrapper (`{"name", "events": [...]}`): read too.
`identify_traits` / `group_traits` items are trait names or objects `{key|name, required?, <schema
keywords>}`; they join the identify / group rule's `traits`. Of two versions of one event, the
highest `version` is in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockpipe.plans.document import Document, check_schema, mapping, sequence, text
from mockpipe.plans.model import Plan, PlanRule, RuleKind, wrap_section

FORMAT = "segment"
_RULE_KEYS = {"events", "global", "identify", "group", "identify_traits", "group_traits"}


def detect(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    rules = data.get("rules")
    if isinstance(rules, Mapping) and _RULE_KEYS & rules.keys():
        return True
    events = data.get("events")
    return isinstance(events, list) and all(isinstance(e, Mapping) and "rules" in e for e in events) and bool(events)


def read(docs: list[Document]) -> Plan:
    doc = docs[0]
    data = mapping(doc, doc.data, "")
    if not isinstance(data.get("rules"), Mapping) and not isinstance(data.get("events"), list):
        # Read as Segment on request (`--plan-format segment`), another format would be an empty plan.
        raise doc.error("a Segment plan.json: {rules: {events: [...], identify, group, global}}")
    base = "/rules" if isinstance(data.get("rules"), Mapping) else ""
    rules_data = mapping(doc, data["rules"], "/rules") if base else data
    found: dict[str, tuple[int, PlanRule]] = {}
    for index, event in enumerate(sequence(doc, rules_data.get("events", []), base + "/events")):
        place = f"{base}/events/{index}"
        event = mapping(doc, event, place, "an event rule object")
        name = text(doc, event.get("name"), place + "/name", "the event's name")
        version = _version(doc, event.get("version"), place + "/version")
        schema = check_schema(doc, event.get("rules", {}), place + "/rules")
        rule = PlanRule(
            "track", name, schema, doc.source(FORMAT, place + "/rules"), event.get("description"), str(version)
        )
        if name not in found or found[name][0] < version:
            found[name] = (version, rule)
    rules = [rule for _, rule in found.values()]
    if "global" in rules_data:
        rules.append(_whole("common", doc, rules_data["global"], base + "/global"))
    for kind in ("identify", "group"):
        listed = rules_data.get(f"{kind}_traits") or []
        place = f"{base}/{kind}_traits"
        extra = _traits(doc, sequence(doc, listed, place), place)
        if kind in rules_data or extra:
            rules.append(_with_traits(kind, doc, rules_data.get(kind), base + "/" + kind, extra))
    return Plan(
        rules=tuple(rules),
        source=doc.source(FORMAT),
        name=data.get("display_name") or data.get("name"),
        description=data.get("description"),
    )


def _version(doc: Document, value: Any, place: str) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error("a version number", place)
    return int(value)


def _whole(kind: RuleKind, doc: Document, schema: Any, place: str) -> PlanRule:
    return PlanRule(kind, None, check_schema(doc, schema, place), doc.source(FORMAT, place))


def _traits(doc: Document, listed: list[Any], place: str) -> tuple[dict[str, Any], list[str]]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for index, item in enumerate(listed):
        if isinstance(item, str):
            props[item] = {}
            continue
        item = mapping(doc, item, f"{place}/{index}", "a trait name or a trait object {key, type, ...}")
        name = text(doc, item.get("key") or item.get("name"), f"{place}/{index}/key", "the trait's key")
        schema = {k: v for k, v in item.items() if k not in ("key", "name", "required")}
        props[name] = check_schema(doc, schema, f"{place}/{index}")
        if item.get("required") is True:
            required.append(name)
    return props, required


def _with_traits(
    kind: RuleKind, doc: Document, schema: Any, place: str, extra: tuple[dict[str, Any], list[str]]
) -> PlanRule:
    props, required = extra
    whole = check_schema(doc, schema if schema is not None else {}, place)
    if props:
        sections = dict(whole.get("properties", {}))
        traits = dict(sections.get("traits", {}))
        traits.setdefault("type", "object")
        traits["properties"] = {**traits.get("properties", {}), **props}
        if required:
            traits["required"] = sorted({*traits.get("required", []), *required})
        whole = {**whole, "properties": {**sections, "traits": traits}} if whole else wrap_section("traits", traits)
        whole = check_schema(doc, whole, place)
    return PlanRule(kind, None, whole, doc.source(FORMAT, place))
