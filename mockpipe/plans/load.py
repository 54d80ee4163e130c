"""Reading a plan from a file, a folder, text or parsed data, its format detected from the content.

`load_plan(path)` reads a file or a folder; `loads_plan(text)` reads a body (the HTTP API's PUT);
`plan_from_data(data)` takes what is already parsed. `format=` forces one of `FORMATS`. Whatever
goes wrong, the caller gets one `PlanError` naming the file, the place in it and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
import yaml

from mockpipe.plans.document import Document
from mockpipe.plans.formats import jsonschema_files, own, rudderstack, segment, segment_rules
from mockpipe.plans.model import Plan, PlanError

Reader = Callable[[list[Document]], Plan]
Detector = Callable[[Any], bool]

# In the order detection asks: the most specific marker first; a bare JSON Schema last.
FORMATS: dict[str, tuple[Detector, Reader]] = {
    "mockpipe": (own.detect, own.read),
    "segment": (segment.detect, segment.read),
    "segment-rules": (segment_rules.detect, segment_rules.read),
    "rudderstack": (rudderstack.detect, rudderstack.read),
    "jsonschema": (jsonschema_files.detect, jsonschema_files.read),
}
PLAN_SUFFIXES = (".json", ".yaml", ".yml")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when PyYAML has it


def load_plan(path: str | os.PathLike[str], *, format: str | None = None) -> Plan:
    """The plan in a file, or in a folder of files (RudderStack YAML, JSON Schema per event)."""
    location = Path(path)
    if location.is_dir():
        files = _plan_files(location)
        if not files:
            raise PlanError("plan files (.json, .yaml, .yml) in the folder", file=str(location))
        docs = [doc for file in files for doc in _parse(file.read_bytes(), str(file))]
    elif location.is_file():
        docs = _parse(location.read_bytes(), str(location))
    else:
        raise PlanError("an existing file or folder", file=str(location))
    return _read(docs, format)


def loads_plan(body: str | bytes, *, format: str | None = None, file: str | None = None) -> Plan:
    """The plan in a JSON or YAML text (several YAML documents allowed, for RudderStack)."""
    raw = body.encode() if isinstance(body, str) else body
    return _read(_parse(raw, file), format)


def plan_from_data(data: Any, *, format: str | None = None, file: str | None = None) -> Plan:
    """The plan in data already parsed (a dict, or a list of documents / rules)."""
    return _read([Document(data, file)], format)


def detect_format(data: Any) -> str | None:
    """The name of the format this parsed document is in, or None."""
    for name, (detect, _) in FORMATS.items():
        if detect(data):
            return name
    return None


def _read(docs: list[Document], format: str | None) -> Plan:
    if format is not None:
        if format not in FORMATS:
            raise PlanError(f"a plan format among {', '.join(FORMATS)}, not {format!r}")
        return FORMATS[format][1](docs)
    if not docs:
        raise PlanError("a plan document, got an empty file")
    names = [detect_format(doc.data) for doc in docs]
    for doc, name in zip(docs, names, strict=True):
        if name is None:
            raise doc.error(_WHAT_PLANS_LOOK_LIKE)
        if name != names[0]:
            raise doc.error(f"a {names[0]} document like the rest of the plan, not a {name} one")
    first = str(names[0])
    if len(docs) > 1 and first not in ("rudderstack", "jsonschema"):
        raise docs[1].error(f"one {first} plan per file or body, not several documents")
    return FORMATS[first][1](docs)


_WHAT_PLANS_LOOK_LIKE = (
    "a tracking plan: mockpipe's own format (mockpipe_plan: 1), a Segment plan.json (rules.events) or "
    "rules list ([{key, type, version, jsonSchema}]), RudderStack YAML (version: rudder/...), or a JSON Schema"
)


def _plan_files(folder: Path) -> list[Path]:
    found = []
    for file in sorted(folder.rglob("*")):
        if not file.is_file() or any(part.startswith(".") for part in file.relative_to(folder).parts):
            continue
        # Iglu lays schemas out as <vendor>/<name>/jsonschema/<version>, with no suffix.
        if file.suffix.lower() in PLAN_SUFFIXES or (file.parent.name == "jsonschema" and not file.suffix):
            found.append(file)
    return found


def _parse(raw: bytes, file: str | None) -> list[Document]:
    stripped = raw.lstrip()
    if stripped[:1] in (b"{", b"["):
        try:
            return [Document(orjson.loads(raw), file)]
        except orjson.JSONDecodeError as exc:
            raise PlanError(f"valid JSON ({exc})", file=file, place=_json_place(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError("UTF-8 text", file=file, place=f"byte {exc.start}") from None
    try:
        loaded = [data for data in yaml.load_all(text, Loader=_Loader) if data is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError(f"valid JSON or YAML ({problem})", file=file, place=place) from None
    if len(loaded) == 1:
        return [Document(_plain(loaded[0]), file)]
    return [Document(_plain(data), file, f"#{index}") for index, data in enumerate(loaded)]


def _json_place(exc: orjson.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}"


def _plain(data: Any) -> Any:
    """YAML values as JSON values: dates and other scalars YAML types become strings."""
    if isinstance(data, Mapping):
        return {str(key): _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    if data is None or isinstance(data, (str, int, float, bool)):
        return data
    return str(data)
