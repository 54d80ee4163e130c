"""A JSON Schema per event, as Snowplow Iglu and Reflekt keep them: one file per event (and version).

The event's name is the schema's `self.name` (Iglu's self-describing schemas), else its `title`,
else the file name without `.json` (the folder's name when the file name is a version, as in
Reflekt's `<Event>/1-0.json` and Iglu's `<vendor>/<name>/jsonschema/1-0-0`). Of several versions of
one name, the newest is in force. A schema named `identify` or `group` describes traits. A schema
whose top level describes `properties`, `traits` or `context` is read as a schema over the whole
call; any other describes the event's properties.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, cast

from mockpipe.plans.document import Document, check_schema
from mockpipe.plans.model import Plan, PlanRule, RuleKind, Source, wrap_section

FORMAT = "jsonschema"
_VERSION = re.compile(r"^\d+(?:[-.]\d+)*$")
_IGLU_META = "iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/"
_DRAFT4 = "http://json-schema.org/draft-04/schema#"
_WHOLE_CALL = {"properties", "traits", "context"}


def detect(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    return "$schema" in data or "self" in data or data.get("type") == "object" or "properties" in data


def read(docs: list[Document]) -> Plan:
    newest: dict[tuple[str, str], tuple[tuple[int, ...], PlanRule]] = {}
    for doc in docs:
        if not isinstance(doc.data, Mapping):
            raise doc.error("a JSON Schema object")
        schema = dict(doc.data)
        self_desc = schema.pop("self", None)
        name, version = _name_and_version(doc, schema, self_desc)
        if _IGLU_META in str(schema.get("$schema", "")):
            schema["$schema"] = _DRAFT4  # Iglu's meta-schema extends draft-04
        kind: RuleKind = cast(RuleKind, name.lower()) if name.lower() in ("identify", "group") else "track"
        props = schema.get("properties")
        if not (isinstance(props, Mapping) and _WHOLE_CALL & props.keys()):
            schema = wrap_section("traits" if kind != "track" else "properties", schema)
        schema = check_schema(doc, schema, doc.prefix)
        rule = PlanRule(
            kind,
            name if kind == "track" else None,
            schema,
            doc.source(FORMAT),
            description=doc.data.get("description"),
            version=".".join(map(str, version)) if version else None,
        )
        slot = (kind, name)
        if slot not in newest or newest[slot][0] < version:
            newest[slot] = (version, rule)
    rules = tuple(rule for _, rule in newest.values())
    folder = _common_folder([doc.file for doc in docs])
    return Plan(rules=rules, source=Source(FORMAT, folder))


def _name_and_version(doc: Document, schema: Mapping[str, Any], self_desc: Any) -> tuple[str, tuple[int, ...]]:
    path = PurePath(doc.file) if doc.file else None
    version: tuple[int, ...] = ()
    if isinstance(self_desc, Mapping) and isinstance(self_desc.get("name"), str):
        raw = str(self_desc.get("version", ""))
        version = _parse_version(raw)
        return self_desc["name"], version
    if path is not None:
        stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
        if _VERSION.match(stem):
            version = _parse_version(stem)
            parent = path.parent.parent if path.parent.name == "jsonschema" else path.parent
            stem = parent.name
        if isinstance(schema.get("title"), str) and schema["title"]:
            return schema["title"], version
        if stem:
            return stem, version
    if isinstance(schema.get("title"), str) and schema["title"]:
        return schema["title"], version
    raise doc.error("an event name: Iglu self.name, a title, or a file name")


def _parse_version(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.split(r"[-.]", raw) if part.isdigit())


def _common_folder(files: list[str | None]) -> str | None:
    paths = [PurePath(file).parent for file in files if file]
    if not paths:
        return None
    common = paths[0]
    while any(common not in (path, *path.parents) for path in paths):
        common = common.parent
    return str(common)
