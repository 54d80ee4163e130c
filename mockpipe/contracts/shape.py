"""The observed shape of JSON values at one place: counts only, so that observations merge in any order.

A `Shape` counts the values seen at a place, per JSON type, the strings matching each recognised
format, and, for objects and arrays, the shapes of their properties and items. Every figure is a
sum, so merging partial observations (xdist workers) in any order gives exactly the serial result.
A property is required when it was present in every object seen at its parent's place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema_rs

from mockpipe.plans.fields import format_spec, join_path

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+[^\s]*$")


def _is_date_time(text: str) -> bool:
    if not _DATE_TIME.match(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# Only formats a value cannot be mistaken for by accident; each also passes the checker's own test.
# Each recogniser starts with a cheap test that most strings fail: every string of every call meets them.
_RECOGNISERS: dict[str, Callable[[str], bool]] = {
    "date-time": lambda text: len(text) >= 20 and text[10:11] == "T" and _is_date_time(text),
    "email": lambda text: "@" in text and bool(_EMAIL.match(text)),
    "uri": lambda text: "://" in text and bool(_URI.match(text)),
    "uuid": lambda text: len(text) == 36 and bool(_UUID.match(text)),
}


@cache
def _format_validator(name: str) -> Any:
    return jsonschema_rs.validator_for({"format": name}, validate_formats=True)


def string_format(text: str) -> str | None:
    """The format a string is in, when it is one of the recognised ones (and the plan checker agrees)."""
    for name, recognise in _RECOGNISERS.items():
        if recognise(text):
            return name if _format_validator(name).is_valid(text) else None
    return None


_EXACT_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


def json_type(value: Any) -> str:
    exact = _EXACT_TYPES.get(type(value))  # one lookup for the values JSON parsers make
    if exact is not None:
        return exact
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def _add(into: dict[str, int], key: str, count: int = 1) -> None:
    into[key] = into.get(key, 0) + count


@dataclass
class Shape:
    """What was seen at one place: how many values, of which types, in which formats, with what inside."""

    seen: int = 0
    types: dict[str, int] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    props: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def observe(self, value: Any) -> None:
        self.seen += 1
        kind = json_type(value)
        _add(self.types, kind)
        if kind == "string":
            fmt = string_format(value)
            if fmt is not None:
                _add(self.formats, fmt)
        elif kind == "object":
            for name, inner in value.items():
                self.props.setdefault(str(name), Shape()).observe(inner)
        elif kind == "array":
            for inner in value:
                if self.items is None:
                    self.items = Shape()
                self.items.observe(inner)

    def merge(self, other: Shape) -> None:
        self.seen += other.seen
        for key, count in other.types.items():
            _add(self.types, key, count)
        for key, count in other.formats.items():
            _add(self.formats, key, count)
        for name, inner in other.props.items():
            self.props.setdefault(name, Shape()).merge(inner)
        if other.items is not None:
            if self.items is None:
                self.items = Shape()
            self.items.merge(other.items)

    # -- what it says -----------------------------------------------------------------------------

    def type_names(self) -> list[str]:
        """The JSON types seen, integer folded into number when both were (number covers integers)."""
        names = set(self.types)
        if {"integer", "number"} <= names:
            names.discard("integer")
        return sorted(names)

    def format(self) -> str | None:
        """The format every string seen here was in, if one was."""
        strings = self.types.get("string", 0)
        for name, count in sorted(self.formats.items()):
            if strings and count == strings:
                return name
        return None

    def lines(self, path: str = "") -> dict[str, tuple[str, int]]:
        """The field lines of an object's properties: path -> (spec, values seen), children after parents."""
        out: dict[str, tuple[str, int]] = {}
        objects = self.types.get("object", 0)
        for name in sorted(self.props):
            inner = self.props[name]
            inner._describe(join_path(path, name), inner.seen < objects, out)
        return out

    def _describe(self, path: str, optional: bool, out: dict[str, tuple[str, int]]) -> None:
        out[path] = (format_spec(self.type_names(), self.format(), optional), self.seen)
        if "object" in self.types:
            out.update(self.lines(path))
        if "array" in self.types and self.items is not None:
            self.items._describe(path + "[]", False, out)

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of an object's properties: what `schema_from_fields(lines)` reads, for any names."""
        root: dict[str, Any] = {"type": "object"}
        self._properties_into(root)
        return root

    def _properties_into(self, node: dict[str, Any]) -> None:
        if not self.props:
            return
        objects = self.types.get("object", 0)
        node["properties"] = {name: self.props[name]._node_schema() for name in sorted(self.props)}
        required = [name for name in sorted(self.props) if self.props[name].seen >= objects]
        if required:
            node["required"] = required

    def _node_schema(self) -> dict[str, Any]:
        node: dict[str, Any] = {}
        types = self.type_names()
        if types:
            node["type"] = types[0] if len(types) == 1 else types
        fmt = self.format()
        if fmt:
            node["format"] = fmt
        if "object" in self.types:
            self._properties_into(node)
        if "array" in self.types and self.items is not None:
            node["items"] = self.items._node_schema()
        return node

    # -- as data (xdist's workeroutput, the HTTP API) ---------------------------------------------

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seen": self.seen, "types": dict(sorted(self.types.items()))}
        if self.formats:
            data["formats"] = dict(sorted(self.formats.items()))
        if self.props:
            data["props"] = {name: self.props[name].to_data() for name in sorted(self.props)}
        if self.items is not None:
            data["items"] = self.items.to_data()
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Shape:
        items = data.get("items")
        return cls(
            seen=int(data.get("seen", 0)),
            types={str(k): int(v) for k, v in data.get("types", {}).items()},
            formats={str(k): int(v) for k, v in data.get("formats", {}).items()},
            props={str(k): cls.from_data(v) for k, v in data.get("props", {}).items()},
            items=None if items is None else cls.from_data(items),
        )
