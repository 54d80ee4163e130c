"""The compact field notation of mockpipe's own plan format: one line per property, as contracts use it.

    track:
      Order Completed:
        fields:
          coupon: string, optional
          placed_at: string, date-time
          products: array
          products[].sku: string
          shipping: object|null
          shipping.city: string

A key is a path into the call's properties (traits for identify and group): `.` steps into an
object, `[]` into an array's items; `\\.`, `\\[`, `\\]` and `\\\\` escape those characters in a name.
A value is `TYPES[, FORMAT][, optional]`: JSON types joined by `|` (or `any`), a JSON Schema format,
and `optional` when the property may be absent. A container needs its own line before its children.
`schema_from_fields` turns the lines into the JSON Schema of the section; `fields_from_schema` gives
them back from a schema that says nothing else, so that a written plan reads one line per fact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
FORMATS = frozenset(
    {"date", "date-time", "time", "duration", "email", "hostname", "ipv4", "ipv6", "uri", "uri-reference", "uuid"}
)
OPTIONAL = "optional"
ANY = "any"
_SPECIAL = re.compile(r"([\\.\[\]])")


class FieldsError(ValueError):
    """A field line that cannot be read: `key` is the line's key (or ""), the message says what was expected."""

    def __init__(self, key: str, expected: str) -> None:
        self.key = key
        self.expected = expected
        super().__init__(f"{key}: expected {expected}" if key else f"expected {expected}")


def escape_name(name: str) -> str:
    return _SPECIAL.sub(r"\\\1", name)


def join_path(parent: str, name: str) -> str:
    return f"{parent}.{escape_name(name)}" if parent else escape_name(name)


def split_path(path: str) -> list[str | None]:
    """The steps of a path: a property name, or None for an array's items."""
    steps: list[str | None] = []
    current: list[str] = []
    named = False  # a name is being read (possibly empty: `""` is a valid property name)
    index = 0
    while index < len(path):
        char = path[index]
        if char == "\\" and index + 1 < len(path):
            current.append(path[index + 1])
            named = True
            index += 2
            continue
        if char == ".":
            if not named and (not steps or steps[-1] is not None):
                raise FieldsError(path, "a property name before each `.`")
            if named:
                steps.append("".join(current))
            current, named = [], False
        elif char == "[":
            if path[index : index + 2] != "[]":
                raise FieldsError(path, "`[]` for an array's items (escape a bracket in a name as `\\[`)")
            if named:
                steps.append("".join(current))
            elif not steps:
                raise FieldsError(path, "a property name before `[]`")
            steps.append(None)
            current, named = [], False
            index += 1
        elif char == "]":
            raise FieldsError(path, "`[]` for an array's items (escape a bracket in a name as `\\]`)")
        else:
            current.append(char)
            named = True
        index += 1
    if named:
        steps.append("".join(current))
    elif path.endswith(".") or not steps:
        raise FieldsError(path, "a property name")
    return steps


def parse_spec(key: str, spec: Any) -> tuple[list[str], str | None, bool]:
    """The types, format and optionality a field's value spells."""
    if not isinstance(spec, str) or not spec.strip():
        raise FieldsError(key, "`TYPES[, FORMAT][, optional]`, e.g. `string, email, optional`")
    parts = [part.strip() for part in spec.split(",")]
    types = [name.strip() for name in parts[0].split("|")]
    if types == [ANY]:
        types = []
    for name in types:
        if name not in JSON_TYPES:
            raise FieldsError(key, f"JSON types ({', '.join(JSON_TYPES)} or any) joined by `|`, not {name!r}")
    fmt: str | None = None
    optional = False
    for part in parts[1:]:
        if part == OPTIONAL and not optional:
            optional = True
        elif part in FORMATS and fmt is None:
            fmt = part
        else:
            raise FieldsError(key, f"`optional` or one format ({', '.join(sorted(FORMATS))}), not {part!r}")
    return sorted(set(types)), fmt, optional


def format_spec(types: list[str] | tuple[str, ...], fmt: str | None, optional: bool) -> str:
    parts = ["|".join(sorted(types)) or ANY]
    if fmt:
        parts.append(fmt)
    if optional:
        parts.append(OPTIONAL)
    return ", ".join(parts)


def schema_from_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of an object (a call's properties or traits) the field lines describe."""
    root: dict[str, Any] = {"type": "object"}
    nodes: dict[tuple[str | None, ...], dict[str, Any]] = {(): root}
    for key in sorted(fields, key=lambda k: len(split_path(k))):  # parents before children
        steps = tuple(split_path(key))
        types, fmt, optional = parse_spec(key, fields[key])
        parent = nodes.get(steps[:-1])
        if parent is None:
            raise FieldsError(key, "a line for its parent (object or array) too")
        node: dict[str, Any] = {}
        if types:
            node["type"] = types[0] if len(types) == 1 else types
        if fmt:
            node["format"] = fmt
        last = steps[-1]
        if last is None:
            if "array" not in _types(parent):
                raise FieldsError(key, "its parent to be an array")
            if optional:
                raise FieldsError(key, "no `optional` on an array's items")
            parent["items"] = node
        else:
            if "object" not in _types(parent):
                raise FieldsError(key, "its parent to be an object")
            parent.setdefault("properties", {})[last] = node
            if not optional:
                parent["required"] = sorted({*parent.get("required", []), last})
        nodes[steps] = node
    return root


def fields_from_schema(schema: Mapping[str, Any]) -> dict[str, str] | None:
    """The field lines of an object schema, or None when the schema says more than field lines can."""
    if set(schema) - {"type", "properties", "required"} or _types(schema) != ["object"]:
        return None
    out: dict[str, str] = {}
    if not _object_lines(schema, "", out):
        return None
    try:
        if schema_from_fields(out) != dict(schema):
            return None
    except FieldsError:
        return None
    return out


def _object_lines(schema: Mapping[str, Any], path: str, out: dict[str, str]) -> bool:
    props = schema.get("properties", {})
    required = schema.get("required", [])
    if not isinstance(props, Mapping) or not isinstance(required, list) or set(required) - set(props):
        return False
    for name, sub in props.items():
        if not isinstance(sub, Mapping):
            return False
        if not _node_lines(sub, join_path(path, name), name not in required, out):
            return False
    return True


def _node_lines(schema: Mapping[str, Any], path: str, optional: bool, out: dict[str, str]) -> bool:
    if set(schema) - {"type", "format", "properties", "required", "items"}:
        return False
    types = _types(schema)
    fmt = schema.get("format")
    if fmt is not None and fmt not in FORMATS:
        return False
    out[path] = format_spec(types, fmt, optional)
    if ("properties" in schema or "required" in schema) and not (
        "object" in types and _object_lines(schema, path, out)
    ):
        return False
    items = schema.get("items")
    if items is not None:
        if not isinstance(items, Mapping) or "array" not in types:
            return False
        return _node_lines(items, path + "[]", False, out)
    return True


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return list(declared)
    return []
