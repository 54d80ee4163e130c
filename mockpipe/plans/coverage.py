"""Plan coverage: which planned events, traits and properties a stream of calls exercised.

`Coverage(plan)` observes calls (`observe(call_type, call)`) and keeps only counts, as plain data:
`to_dict()` / `Coverage.from_dict(plan, data)` carry it between processes (pytest-xdist workers) and
`merge()` adds another's counts. `report()` gives the figures; `render(fmt)` writes them as text,
JSON or Markdown. "Events covered" is the share of the plan's named rules (track events, page and
screen names) that some call used; identify and group are reported with their traits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mockpipe.plans.model import Plan, PlanRule, section_schema

_MISSING = object()
_NAMED = frozenset(("track", "page", "screen"))
_MAX_SHAPES = 1024  # shapes of one rule's calls kept before they are added up
_MAX_ROUTES = 4096  # names remembered; a stream of ever new event names is worked out call by call


def _outline(schema: Any, prefix: str, props: list[str], enums: dict[str, list[Any]]) -> None:
    if not isinstance(schema, Mapping):
        return
    listed = schema.get("properties")
    if not isinstance(listed, Mapping):
        return
    for key, sub in listed.items():
        path = f"{prefix}.{key}" if prefix else key
        props.append(path)
        if isinstance(sub, Mapping):
            if isinstance(sub.get("enum"), list):
                enums[path] = list(sub["enum"])
            elif "const" in sub:
                enums[path] = [sub["const"]]
            _outline(sub, path, props, enums)


class RuleOutline:
    """What one rule plans: the dotted paths of its properties (or traits) and their allowed values."""

    def __init__(self, rule: PlanRule) -> None:
        self.rule = rule
        self.section = rule.section
        self.properties: list[str] = []
        self.enums: dict[str, list[Any]] = {}
        _outline(section_schema(rule), "", self.properties, self.enums)
        # For `observe`, which runs for every call a server checks. Top-level properties are counted
        # from the call's set of keys (its "shape", counted as one tuple and unfolded when read);
        # nested ones are looked up, each path split once here; enum values are read one by one.
        self.top = frozenset(path for path in self.properties if "." not in path)
        self.nested: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
            (path, tuple(path.split("."))) for path in self.properties if "." in path
        )
        self.enum_lookups: tuple[tuple[str, tuple[str, ...] | None], ...] = tuple(
            (path, tuple(path.split(".")) if "." in path else None) for path in self.enums
        )


@dataclass(slots=True)
class _Tally:
    """Where the calls of one rule are counted: their shapes (sets of keys), nested paths, enum values."""

    key: str
    section: str
    shapes: dict[tuple[str, ...], int]
    nested: tuple[tuple[str, tuple[str, ...]], ...]
    enums: tuple[tuple[str, tuple[str, ...] | None, dict[str, int]], ...]


class Coverage:
    """Counts of what a stream of calls exercised of one plan; mergeable across processes."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.outlines = {rule.key: RuleOutline(rule) for rule in plan.rules if rule.kind != "common"}
        self.calls = 0
        self.rules: dict[str, int] = {}
        self.unplanned: dict[str, int] = {}
        self.properties: dict[str, dict[str, int]] = {}
        self.enum_values: dict[str, dict[str, dict[str, int]]] = {}
        # (call type, name) -> the tallies of the rules it counts for and its unplanned label, worked out
        # once per name; a tally holds the counts its rule's calls go to, found once instead of per call.
        self._routes: dict[tuple[str, Any], tuple[list[_Tally], str | None]] = {}
        self._tallies: dict[str, _Tally] = {}

    def observe(self, call_type: str, call: Mapping[str, Any]) -> None:
        """Count one call (a server counts every call it checks: kept cheap)."""
        self.calls += 1
        name = call.get("event" if call_type == "track" else "name") if call_type in _NAMED else None
        route = self._routes.get((call_type, name)) if name is None or name.__class__ is str else None
        if route is None:
            route = self._route(call_type, name)
        tallies, unplanned = route
        if unplanned is not None:
            self.unplanned[unplanned] = self.unplanned.get(unplanned, 0) + 1
        rules = self.rules
        for tally in tallies:
            key = tally.key
            rules[key] = rules.get(key, 0) + 1
            section = call.get(tally.section)
            if section.__class__ is not dict and not isinstance(section, Mapping):  # the ABC check only when needed
                continue
            shapes = tally.shapes
            shape = tuple(section)
            count = shapes.get(shape)
            if count is not None:
                shapes[shape] = count + 1
            else:
                if len(shapes) >= _MAX_SHAPES:  # calls of ever new shapes: counted now, not kept
                    self._fold()
                shapes[shape] = 1
            if tally.nested:
                seen = self.properties.setdefault(key, {})
                for path, parts in tally.nested:
                    if _get(section, parts) is not _MISSING:
                        seen[path] = seen.get(path, 0) + 1
            for path, enum_parts, values in tally.enums:
                value = section.get(path, _MISSING) if enum_parts is None else _get(section, enum_parts)
                if value is not _MISSING:
                    shown = orjson.dumps(value).decode()
                    values[shown] = values.get(shown, 0) + 1

    def _fold(self) -> None:
        """Add the counted shapes of calls to the counts of their top-level properties."""
        for key, tally in self._tallies.items():
            if not tally.shapes:
                continue
            top = self.outlines[key].top
            seen = self.properties.setdefault(key, {})
            for shape, count in tally.shapes.items():
                for path in top.intersection(shape):
                    seen[path] = seen.get(path, 0) + count
            tally.shapes.clear()

    def _tally(self, key: str) -> _Tally:
        tally = self._tallies.get(key)
        if tally is None:
            outline = self.outlines[key]
            enums = tuple(
                (path, parts, self.enum_values.setdefault(key, {}).setdefault(path, {}))
                for path, parts in outline.enum_lookups
            )
            tally = self._tallies[key] = _Tally(key, outline.section, {}, outline.nested, enums)
        return tally

    def _route(self, call_type: str, name: Any) -> tuple[list[_Tally], str | None]:
        """The rules a call of this type and name counts for, and its label when the plan does not know it."""
        keys = self._keys(call_type, name)
        unplanned = None
        if call_type in _NAMED and isinstance(name, str) and name:
            label = f"{call_type}:{name}"
            if label not in self.outlines and any(
                key.startswith(call_type + ":") and key != f"{call_type}:*" for key in self.outlines
            ):
                unplanned = label
        route = ([self._tally(key) for key in keys], unplanned)
        if (name is None or name.__class__ is str) and len(self._routes) < _MAX_ROUTES:
            self._routes[(call_type, name)] = route
        return route

    def observe_all(self, calls: Iterable[tuple[str, Mapping[str, Any]]]) -> Coverage:
        for call_type, call in calls:
            self.observe(call_type, call)
        return self

    def _keys(self, call_type: str, name: Any) -> list[str]:
        if call_type in ("identify", "group"):
            return [call_type] if call_type in self.outlines else []
        if call_type not in _NAMED:
            return []
        keys = []
        if isinstance(name, str) and name and f"{call_type}:{name}" in self.outlines:
            keys.append(f"{call_type}:{name}")
        if f"{call_type}:*" in self.outlines:
            keys.append(f"{call_type}:*")
        return keys

    def merge(self, other: Coverage | Mapping[str, Any]) -> Coverage:
        """Add another coverage's counts (a Coverage, or the `to_dict()` of one) to this one."""
        data = other.to_dict() if isinstance(other, Coverage) else other
        self.calls += int(data.get("calls", 0))
        _add(self.rules, data.get("rules", {}))
        _add(self.unplanned, data.get("unplanned", {}))
        for key, counts in data.get("properties", {}).items():
            _add(self.properties.setdefault(key, {}), counts)
        for key, paths in data.get("enum_values", {}).items():
            for path, counts in paths.items():
                _add(self.enum_values.setdefault(key, {}).setdefault(path, {}), counts)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data (what an xdist worker sends to the controller)."""
        self._fold()
        return {
            "calls": self.calls,
            "rules": dict(self.rules),
            "unplanned": dict(self.unplanned),
            "properties": {k: dict(v) for k, v in self.properties.items()},
            "enum_values": {
                k: {p: dict(c) for p, c in v.items() if c} for k, v in self.enum_values.items() if any(v.values())
            },
        }

    @classmethod
    def from_dict(cls, plan: Plan, data: Mapping[str, Any]) -> Coverage:
        return cls(plan).merge(data)

    @property
    def event_keys(self) -> list[str]:
        """The rules counted as events: track events and named pages and screens, in plan order."""
        return [key for key, o in self.outlines.items() if o.rule.kind in ("track", "page", "screen") and o.rule.name]

    @property
    def events_covered(self) -> float:
        """The percentage of planned events some call used (100.0 for a plan with none)."""
        keys = self.event_keys
        if not keys:
            return 100.0
        return 100.0 * sum(1 for key in keys if self.rules.get(key)) / len(keys)

    def report(self) -> dict[str, Any]:
        """Every figure, as JSON-ready data."""
        self._fold()
        rules = []
        for key, outline in self.outlines.items():
            seen = self.properties.get(key, {})
            enums = self.enum_values.get(key, {})
            never = {
                path: [v for v in allowed if orjson.dumps(v).decode() not in enums.get(path, {})]
                for path, allowed in outline.enums.items()
            }
            rules.append(
                {
                    "rule": key,
                    "kind": outline.rule.kind,
                    "name": outline.rule.name,
                    "calls": self.rules.get(key, 0),
                    "properties": {path: seen.get(path, 0) for path in outline.properties},
                    "properties_never_sent": [path for path in outline.properties if not seen.get(path)],
                    "enum_values_never_sent": {path: values for path, values in never.items() if values},
                }
            )
        keys = self.event_keys
        return {
            "plan": self.plan.name,
            "calls": self.calls,
            "events": {"planned": len(keys), "covered": sum(1 for k in keys if self.rules.get(k))},
            "events_covered": round(self.events_covered, 2),
            "events_never_sent": [key for key in keys if not self.rules.get(key)],
            "unplanned": dict(sorted(self.unplanned.items())),
            "rules": rules,
        }

    def render(self, fmt: str = "text") -> str:
        """The report as `text`, `json` or `markdown`."""
        report = self.report()
        if fmt == "json":
            return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
        if fmt == "markdown":
            return _markdown(report)
        if fmt == "text":
            return _text(report)
        raise ValueError(f"no coverage format {fmt!r}: use text, json or markdown")


def _get(section: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    node: Any = section
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _add(into: dict[str, int], counts: Mapping[str, Any]) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + int(count)


def _text(report: Mapping[str, Any]) -> str:
    events = report["events"]
    lines = [f"events covered: {report['events_covered']:.1f}% ({events['covered']} of {events['planned']})"]
    if report["events_never_sent"]:
        lines.append("never sent: " + ", ".join(report["events_never_sent"]))
    for rule in report["rules"]:
        if rule["calls"] and rule["properties_never_sent"]:
            lines.append(f"{rule['rule']}: properties never sent: {', '.join(rule['properties_never_sent'])}")
        for path, values in rule["enum_values_never_sent"].items():
            shown = ", ".join(orjson.dumps(v).decode() for v in values)
            lines.append(f"{rule['rule']}: {path} values never sent: {shown}")
    if report["unplanned"]:
        lines.append("unplanned: " + ", ".join(f"{k} ({v})" for k, v in report["unplanned"].items()))
    return "\n".join(lines) + "\n"


def _markdown(report: Mapping[str, Any]) -> str:
    events = report["events"]
    lines = [
        f"**Events covered: {report['events_covered']:.1f}%** ({events['covered']} of {events['planned']})",
        "",
        "| Rule | Calls | Properties never sent | Values never sent |",
        "|---|---|---|---|",
    ]
    for rule in report["rules"]:
        never = ", ".join(f"`{p}`" for p in rule["properties_never_sent"]) or "-"
        values = (
            "; ".join(
                f"`{p}`: " + ", ".join(orjson.dumps(v).decode() for v in vs)
                for p, vs in rule["enum_values_never_sent"].items()
            )
            or "-"
        )
        lines.append(f"| `{rule['rule']}` | {rule['calls']} | {never} | {values} |")
    if report["unplanned"]:
        lines += ["", "Unplanned: " + ", ".join(f"`{k}` ({v})" for k, v in report["unplanned"].items())]
    return "\n".join(lines) + "\n"
