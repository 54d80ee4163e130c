"""RudderStack's data catalog YAML, as `rudder-cli` reads it: several documents, often several files.

Each document has `version: rudder/...`, `kind`, `metadata.name` and `spec`:
- `properties`: `spec.properties: [{id, name, type | types, description, propConfig | config}]`,
  `name` being the key in the payload; `type` may list several types ("string,null") or name a custom
  type (`#/custom-types/<group>/<id>` or `#custom-type:<id>`);
- `events`: `spec.events: [{id, name, event_type: track|identify|page|screen|group}]`;
- `custom-types`: `spec.types: [{id, name, type, config | propConfig, properties: [...]}]`;
- `tp` (rudder/v0.1) or `tracking-plan` (rudder/v1): `spec.rules: [{type: event_rule, event, properties:
  [{$ref | property, required, properties: [...nested]}], variants}]`, with `allow_unplanned` (on the
  rule or its event reference) or `additional_properties` saying whether unlisted properties pass.
References are v0.1 paths (`#/events/<group>/<id>`) or v1 URNs (`#event:<id>`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from mockpipe.plans.document import Document, check_schema, mapping, sequence, text
from mockpipe.plans.model import Plan, PlanRule, RuleKind, wrap_section

FORMAT = "rudderstack"
EVENT_KINDS = {"track", "identify", "page", "screen", "group"}
_REF = re.compile(r"^#/?(?P<kind>[a-z-]+)/(?:[^/]+/)?(?P<id>[^/]+)$")
_URN = re.compile(r"^#(?P<kind>[a-z-]+):(?P<id>.+)$")
_KIND_OF = {"event": "events", "property": "properties", "custom-type": "custom-types"}
# propConfig (v0.1, camelCase) and config (v1, snake_case) keys, as JSON Schema keywords.
_CONFIG = {
    "enum": "enum",
    "pattern": "pattern",
    "format": "format",
    "minLength": "minLength",
    "min_length": "minLength",
    "maxLength": "maxLength",
    "max_length": "maxLength",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusiveMinimum",
    "exclusive_minimum": "exclusiveMinimum",
    "exclusiveMaximum": "exclusiveMaximum",
    "exclusive_maximum": "exclusiveMaximum",
    "multipleOf": "multipleOf",
    "multiple_of": "multipleOf",
    "minItems": "minItems",
    "min_items": "minItems",
    "maxItems": "maxItems",
    "max_items": "maxItems",
    "uniqueItems": "uniqueItems",
    "unique_items": "uniqueItems",
}


def detect(data: Any) -> bool:
    return isinstance(data, Mapping) and str(data.get("version", "")).startswith("rudder/") and "kind" in data


class _Catalog:
    def __init__(self, docs: list[Document]) -> None:
        self.entries: dict[tuple[str, str], tuple[Document, str, Mapping[str, Any]]] = {}
        self.plans: list[tuple[Document, Mapping[str, Any]]] = []
        for doc in docs:
            data = mapping(doc, doc.data, "")
            kind = text(doc, data.get("kind"), "/kind", "a kind (properties, events, custom-types, tp, ...)")
            spec = mapping(doc, data.get("spec"), "/spec", "a spec object")
            if kind in ("tp", "tracking-plan"):
                self.plans.append((doc, spec))
                continue
            listed = {"properties": "properties", "events": "events", "custom-types": "types"}.get(kind)
            if listed is None:
                continue  # categories and other kinds carry nothing a check needs
            for index, item in enumerate(sequence(doc, spec.get(listed, []), f"/spec/{listed}")):
                place = f"/spec/{listed}/{index}"
                item = mapping(doc, item, place)
                ident = text(doc, item.get("id"), place + "/id", "an id")
                self.entries[(kind, ident)] = (doc, place, item)

    def resolve(self, doc: Document, ref: Any, place: str, kind: str) -> tuple[Document, str, Mapping[str, Any]]:
        if isinstance(ref, Mapping):
            ref = ref.get("$ref")
        match = _REF.match(ref) if isinstance(ref, str) else None
        match = match or (_URN.match(ref) if isinstance(ref, str) else None)
        if match is None:
            raise doc.error(f"a reference to {kind} (#/{kind}/<group>/<id> or #{kind[:-1]}:<id>)", place)
        found_kind = _KIND_OF.get(match["kind"], match["kind"])
        entry = self.entries.get((found_kind, match["id"]))
        if entry is None or found_kind != kind:
            raise doc.error(
                f"a reference to a {kind[:-1].replace('-', ' ')} defined in the catalog, not {ref!r}", place
            )
        return entry

    def type_schema(self, doc: Document, item: Mapping[str, Any], place: str) -> dict[str, Any]:
        """The JSON Schema of a property or custom type: its type(s), its config, its object properties."""
        schema: dict[str, Any] = {}
        types = item.get("types")
        declared = item.get("type")
        if isinstance(declared, str) and declared.startswith("#"):
            cdoc, cplace, custom = self.resolve(doc, declared, place + "/type", "custom-types")
            schema = self.type_schema(cdoc, custom, cplace)
        elif isinstance(declared, str) and declared:
            types = [part.strip() for part in declared.split(",") if part.strip()]
        if isinstance(types, list) and types:
            schema["type"] = types[0] if len(types) == 1 else sorted(types)
        config = item.get("config", item.get("propConfig")) or {}
        config = mapping(doc, config, place + "/config")
        for key, value in config.items():
            if key in _CONFIG:
                schema[_CONFIG[key]] = value
        item_types = config.get("itemTypes", config.get("item_types", item.get("item_types")))
        single = item.get("item_type")
        if single is not None:
            item_types = [single]
        if isinstance(item_types, list) and item_types:
            schema["items"] = {"type": item_types[0] if len(item_types) == 1 else sorted(item_types)}
        if "properties" in item and isinstance(item["properties"], list):
            schema.update(self.object_schema(doc, item["properties"], place + "/properties", None))
        return schema

    def object_schema(
        self, doc: Document, listed: list[Any], place: str, allow_unplanned: bool | None
    ) -> dict[str, Any]:
        props: dict[str, Any] = {}
        required: list[str] = []
        for index, entry in enumerate(sequence(doc, listed, place)):
            here = f"{place}/{index}"
            entry = mapping(doc, entry, here, "a property reference {$ref | property, required}")
            ref = entry.get("$ref", entry.get("property"))
            pdoc, pplace, prop = self.resolve(doc, ref, here, "properties")
            key = text(pdoc, prop.get("name") or prop.get("display_name"), pplace + "/name", "the property's name")
            schema = self.type_schema(pdoc, prop, pplace)
            if isinstance(entry.get("properties"), list):
                nested = self.object_schema(doc, entry["properties"], here + "/properties", None)
                schema = {**schema, **nested, "type": "object"}
            props[key] = schema
            if entry.get("required") is True:
                required.append(key)
        out: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            out["required"] = required
        if allow_unplanned is False:
            out["additionalProperties"] = False
        return out


def read(docs: list[Document]) -> Plan:
    catalog = _Catalog(docs)
    if not catalog.plans:
        raise docs[0].error("a tracking plan document (kind: tp or kind: tracking-plan) among the documents")
    rules: list[PlanRule] = []
    first_doc, first_spec = catalog.plans[0]
    for doc, spec in catalog.plans:
        for index, item in enumerate(sequence(doc, spec.get("rules", []), "/spec/rules")):
            place = f"/spec/rules/{index}"
            item = mapping(doc, item, place)
            if item.get("type", "event_rule") != "event_rule":
                continue  # include_rules and other rule types name no event of their own
            rules.append(_event_rule(catalog, doc, item, place))
    return Plan(
        rules=tuple(rules),
        source=first_doc.source(FORMAT),
        name=first_spec.get("display_name") or first_spec.get("name") or first_spec.get("id"),
        description=first_spec.get("description"),
    )


def _event_rule(catalog: _Catalog, doc: Document, item: Mapping[str, Any], place: str) -> PlanRule:
    event_ref = item.get("event")
    if event_ref is None:
        raise doc.error("the rule's event", place + "/event")
    _, _, event = catalog.resolve(doc, event_ref, place + "/event", "events")
    kind = event.get("event_type", "track")
    if kind not in EVENT_KINDS:
        raise doc.error(f"an event_type among {', '.join(sorted(EVENT_KINDS))}", place + "/event")
    allow = item.get("allow_unplanned")
    if isinstance(event_ref, Mapping) and "allow_unplanned" in event_ref:
        allow = event_ref["allow_unplanned"]
    if "additional_properties" in item:
        allow = item["additional_properties"]
    section = catalog.object_schema(doc, item.get("properties") or [], place + "/properties", None)
    for vindex, variant in enumerate(item.get("variants") or []):
        _add_variant(catalog, doc, section, variant, f"{place}/variants/{vindex}")
    rule_kind = cast(RuleKind, kind)
    name = event.get("name") if rule_kind == "track" else None
    if rule_kind == "track" and not isinstance(name, str):
        raise doc.error("a track event with a name", place + "/event")
    schema = check_schema(
        doc, wrap_section("traits" if kind in ("identify", "group") else "properties", section), place
    )
    return PlanRule(
        rule_kind,
        name,
        schema,
        doc.source(FORMAT, place),
        description=event.get("description"),
        allow_unplanned=allow if isinstance(allow, bool) else None,
    )


def _add_variant(catalog: _Catalog, doc: Document, section: dict[str, Any], variant: Any, place: str) -> None:
    """A discriminator variant as if/then branches; its properties count as planned."""
    variant = mapping(doc, variant, place, "a variant {type: discriminator, discriminator, cases}")
    _, _pplace, prop = catalog.resolve(doc, variant.get("discriminator"), place + "/discriminator", "properties")
    key = prop.get("name")
    branches: list[dict[str, Any]] = []
    matched: list[Any] = []
    for cindex, case in enumerate(sequence(doc, variant.get("cases", []), place + "/cases")):
        cplace = f"{place}/cases/{cindex}"
        case = mapping(doc, case, cplace)
        values = sequence(doc, case.get("match"), cplace + "/match", "the values this case matches")
        matched.extend(values)
        then = catalog.object_schema(doc, case.get("properties") or [], cplace + "/properties", None)
        branches.append({"if": {"properties": {key: {"enum": values}}, "required": [key]}, "then": then})
        for name in then["properties"]:
            section["properties"].setdefault(name, {})
    if variant.get("default"):
        then = catalog.object_schema(doc, variant["default"], place + "/default", None)
        branches.append({"if": {"not": {"properties": {key: {"enum": matched}}, "required": [key]}}, "then": then})
        for name in then["properties"]:
            section["properties"].setdefault(name, {})
    if branches:
        section.setdefault("allOf", []).extend(branches)
