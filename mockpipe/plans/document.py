"""A parsed plan document and the helpers importers use to read it with precise errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from mockpipe.plans.model import PlanError, Source

DRAFT_URIS = {
    "http://json-schema.org/draft-04/schema#",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
}


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed JSON or YAML document: its data, its file, and the prefix of places inside it."""

    data: Any
    file: str | None = None
    prefix: str = ""  # "#1" for the second document of a multi-document YAML file

    def source(self, format: str, place: str = "") -> Source:
        return Source(format, self.file, self.prefix + place)

    def error(self, expected: str, place: str = "") -> PlanError:
        return PlanError(expected, file=self.file, place=self.prefix + place)


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*parts: str | int) -> str:
    return "".join("/" + escape(part) for part in parts)


def mapping(doc: Document, value: Any, place: str, what: str = "an object") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise doc.error(what, place)
    return value


def sequence(doc: Document, value: Any, place: str, what: str = "a list") -> list[Any]:
    if not isinstance(value, list):
        raise doc.error(what, place)
    return value


def text(doc: Document, value: Any, place: str, what: str = "a string") -> str:
    if not isinstance(value, str) or not value:
        raise doc.error(what, place)
    return value


def optional_text(doc: Document, value: Any, place: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise doc.error("a string", place)
    return value


def flag(doc: Document, value: Any, place: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise doc.error("true or false", place)
    return value


def check_schema(doc: Document, schema: Any, place: str) -> dict[str, Any]:
    """`schema` as a dict after checking that it is a JSON Schema the validator can compile."""
    if isinstance(schema, bool):
        schema = {} if schema else {"not": {}}
    if not isinstance(schema, Mapping):
        raise doc.error("a JSON Schema (an object)", place)
    dialect = schema.get("$schema")
    if dialect is not None and (not isinstance(dialect, str) or dialect.rstrip("#") + "#" not in _DIALECTS):
        raise doc.error(
            "a $schema naming JSON Schema draft-04, draft-06, draft-07, 2019-09 or 2020-12", place + "/$schema"
        )
    try:
        jsonschema_rs.meta.validate(dict(schema))
        jsonschema_rs.validator_for(dict(schema))
    except jsonschema_rs.ValidationError as exc:
        inner = pointer(*exc.instance_path)  # where inside the schema the meta-schema failed
        raise doc.error(f"a valid JSON Schema ({exc.message.splitlines()[0]})", place + inner) from None
    except (jsonschema_rs.ReferencingError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise doc.error(f"a valid JSON Schema ({first})", place) from None
    return dict(schema)


_DIALECTS = {uri.rstrip("#") + "#" for uri in DRAFT_URIS}
