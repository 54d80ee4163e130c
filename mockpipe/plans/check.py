"""Checking calls against a plan: compiled once, then a fast lane for clean calls and a full report.

`PlanChecker(plan)` compiles every rule's schema (jsonschema-rs) and the lists of planned keys.
`check(call_type, call)` asks the fast lane first (`is_clean`: one `is_valid` per rule, on the
rule's schema closed to unlisted keys) and only for a call that fails it walks the schema's errors
and the unlisted keys into `PlanViolation`s. The lanes differ, so a test holds `is_clean` to an
empty `report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from mockpipe.plans.codes import PLAN_RULES, PlanViolation
from mockpipe.plans.document import escape, pointer
from mockpipe.plans.model import Plan, PlanRule, section_schema
from mockpipe.spec.jsonvalues import json_kind
from mockpipe.spec.rules import Violation
from mockpipe.types import Severity

_CODE_OF_KIND = {
    "required": "plan.property.required",
    "type": "plan.property.type",
    "enum": "plan.property.enum",
    "const": "plan.property.enum",
    "additionalProperties": "plan.property.unplanned",
    "unevaluatedProperties": "plan.property.unplanned",
}
_WHAT = {"properties": "property", "traits": "trait", "context": "context field"}
_EXTRA_KEYWORDS = ("additionalProperties", "patternProperties", "unevaluatedProperties")


@dataclass(frozen=True, slots=True)
class Listing:
    """The keys a rule lists for one object, and the listings of its nested objects."""

    keys: frozenset[str]
    nested: Mapping[str, Listing]

    @classmethod
    def of(cls, schema: Any) -> Listing | None:
        """None when the schema lists nothing here, or decides about extra keys itself."""
        if not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping):
            return None
        if any(keyword in schema for keyword in _EXTRA_KEYWORDS):
            return None
        props = schema["properties"]
        nested = {key: found for key, sub in props.items() if (found := cls.of(sub)) is not None}
        return cls(frozenset(props), nested)

    def extras(self, value: Any, path: str, out: list[str]) -> None:
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            if key not in self.keys:
                out.append(f"{path}/{escape(key)}")
            elif key in self.nested:
                self.nested[key].extras(item, f"{path}/{escape(key)}", out)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: PlanRule
    validator: Any  # a jsonschema_rs validator (its classes share no public base type)
    listing: Listing | None
    forbid_extras: bool
    # The top-level keys the schema looks at, when it looks at no others: the fast lane validates
    # only those, so the call's context (often the largest part) is not converted for nothing.
    projection: tuple[str, ...] | None
    # The fast lane's validator: the rule's schema with `additionalProperties: false` wherever the
    # listing would report extra keys, so that one call into the validator answers both questions.
    fast: Any

    @property
    def label(self) -> str:
        if self.rule.kind == "common":
            return "common rule"
        if self.rule.name is None:
            return self.rule.kind if self.rule.kind in ("identify", "group") else f"every {self.rule.kind}"
        return f"{self.rule.kind} {self.rule.name!r}"

    def ref(self, schema_path: str) -> dict[str, Any]:
        source = self.rule.source
        return {
            "rule": self.rule.key,
            "kind": self.rule.kind,
            "event": self.rule.name,
            "format": source.format,
            "file": source.file,
            "place": source.place,
            "schema_path": schema_path,
        }

    def clean(self, call: Mapping[str, Any]) -> bool:
        projection = self.projection
        if projection is None:
            return bool(self.fast.is_valid(call))
        if len(projection) == 1:  # the usual rule, over one section: no comprehension to set up
            key = projection[0]
            return bool(self.fast.is_valid({key: call[key]} if key in call else {}))
        return bool(self.fast.is_valid({k: call[k] for k in projection if k in call}))


class PlanChecker:
    """A plan compiled for checking calls: build it once per plan, then call `check` per call."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._common: list[CompiledRule] = []
        self._named: dict[str, dict[str, CompiledRule]] = {"track": {}, "page": {}, "screen": {}}
        self._any: dict[str, CompiledRule] = {}  # identify, group, and the rules for every page / screen
        for rule in plan.rules:
            compiled = self._compile(rule)
            if rule.kind == "common":
                self._common.append(compiled)
            elif rule.name is not None:
                self._named[rule.kind][rule.name] = compiled
            else:
                self._any[rule.kind] = compiled
        self._lists_names = {kind: bool(named) for kind, named in self._named.items()}
        self._severity = {code: self._resolve(code) for code in PLAN_RULES}

    def _compile(self, rule: PlanRule) -> CompiledRule:
        validator = jsonschema_rs.validator_for(dict(rule.schema), validate_formats=True)
        forbid = rule.allow_unplanned is False or (
            rule.allow_unplanned is None and not self.plan.allow_unplanned_properties
        )
        listing = None if rule.kind == "common" else Listing.of(section_schema(rule))
        fast = validator
        if listing is not None and self.plan.severities.get("plan.property.unplanned") != "off":
            closed = {**rule.schema, "properties": {**rule.schema["properties"]}}
            closed["properties"][rule.section] = _closed(closed["properties"][rule.section])
            fast = jsonschema_rs.validator_for(closed, validate_formats=True)
        return CompiledRule(rule, validator, listing, forbid, _projection(rule.schema), fast)

    def _resolve(self, code: str) -> Severity | None:
        chosen = self.plan.severities.get(code)
        if chosen == "off":
            return None
        if chosen is not None:
            return chosen
        if code == "plan.event.unplanned":
            return "warning" if self.plan.allow_unplanned_events else "error"
        return PLAN_RULES[code].severity

    def severity_of(self, code: str) -> Severity | None:
        """The severity a plan code is reported with under this plan (None: the plan turns it off)."""
        return self._severity[code]

    def rules_for(self, call_type: str, call: Mapping[str, Any]) -> tuple[list[CompiledRule], str | None]:
        """The compiled rules that apply to a call, and the name it carries that the plan does not know."""
        found = list(self._common)
        unplanned = None
        named = self._named.get(call_type)
        if named is not None:
            name = call.get("event" if call_type == "track" else "name")
            if isinstance(name, str) and name:
                rule = named.get(name)
                if rule is not None:
                    found.append(rule)
                elif self._lists_names[call_type]:
                    unplanned = name
        every = self._any.get(call_type)
        if every is not None:
            found.append(every)
        return found, unplanned

    def is_clean(self, call_type: str, call: Mapping[str, Any]) -> bool:
        """The fast lane: True proves the call breaks no rule of the plan (nothing to report).

        False sends the call to `report`, which may still find nothing when a plan turns a code off.
        """
        # rules_for without its list: this runs for every call.
        for rule in self._common:
            if not rule.clean(call):
                return False
        named = self._named.get(call_type)
        if named is not None:
            name = call.get("event" if call_type == "track" else "name")
            if name.__class__ is str and name:
                found = named.get(name)
                if found is not None:
                    if not found.clean(call):
                        return False
                elif self._lists_names[call_type] and self._severity["plan.event.unplanned"] is not None:
                    return False
        every = self._any.get(call_type)
        return every is None or every.clean(call)

    def check(self, call_type: str, call: Mapping[str, Any]) -> list[PlanViolation]:
        """Every plan violation of one call of type `call_type`; paths are JSON pointers inside the call."""
        if self.is_clean(call_type, call):
            return []
        return self.report(call_type, call)

    def violations(self, call_type: str, call: Mapping[str, Any]) -> list[Violation]:
        """`check` as spec `Violation`s (the journal's records, the plan rule in their `plan` field)."""
        return [found.to_violation() for found in self.check(call_type, call)]

    def report(self, call_type: str, call: Mapping[str, Any]) -> list[PlanViolation]:
        """`check` without the fast lane: every rule's errors walked in turn."""
        out: list[PlanViolation] = []
        rules, unplanned = self.rules_for(call_type, call)
        severity = self._severity["plan.event.unplanned"]
        if unplanned is not None and severity is not None:
            field = "event" if call_type == "track" else "name"
            kind = "event" if call_type == "track" else call_type
            message = PLAN_RULES["plan.event.unplanned"].message(kind=kind, name=unplanned)
            ref = {"rule": f"{call_type}:{unplanned}", "kind": call_type, "event": unplanned, "schema_path": ""}
            ref.update(self.plan.source.to_dict())
            out.append(PlanViolation("plan.event.unplanned", severity, "/" + field, message, ref))
        for rule in rules:
            self._schema_errors(rule, call, out)
            self._unplanned_keys(rule, call, out)
        seen: set[tuple[str, str, str]] = set()
        unique = []
        for found in out:
            key = (found.code, found.path, found.message)
            if key not in seen:
                seen.add(key)
                unique.append(found)
        return unique

    def _unplanned_keys(self, rule: CompiledRule, call: Mapping[str, Any], out: list[PlanViolation]) -> None:
        if rule.listing is None:
            return
        code = "plan.property.unplanned"
        severity = (
            self._severity[code] if code in self.plan.severities else ("error" if rule.forbid_extras else "warning")
        )
        if severity is None:
            return
        paths: list[str] = []
        section = rule.rule.section
        rule.listing.extras(call.get(section), "/" + section, paths)
        for path in paths:
            field = _field(path)
            message = PLAN_RULES[code].message(what=_what(path), field=field, rule=rule.label)
            out.append(PlanViolation(code, severity, path, message, rule.ref("")))

    def _schema_errors(self, rule: CompiledRule, call: Mapping[str, Any], out: list[PlanViolation]) -> None:
        for error in rule.validator.iter_errors(call):
            kind = error.kind.name
            details = error.kind.as_dict()
            base = pointer(*error.instance_path)
            schema_path = pointer(*error.schema_path)
            if kind == "required":
                self._add(out, rule, "plan.property.required", f"{base}/{escape(details['property'])}", schema_path, "")
            elif kind in ("additionalProperties", "unevaluatedProperties"):
                for key in details.get("unexpected", []):
                    self._add(out, rule, "plan.property.unplanned", f"{base}/{escape(key)}", schema_path, "")
            elif kind == "type" and error.instance is None and _required_here(rule.rule.schema, error):
                self._add(out, rule, "plan.property.required", base, schema_path, " (null is not allowed)")
            elif kind == "type" or (kind in ("anyOf", "oneOfNotValid") and _all_type_errors(details)):
                expected = " or ".join(details.get("types", [])) or _expected_types(details)
                detail = {"expected": expected, "kind": json_kind(error.instance)}
                self._add(out, rule, "plan.property.type", base, schema_path, "", detail)
            elif kind in ("enum", "const"):
                allowed = details.get("options", [details.get("expected_value")])
                detail = {"allowed": ", ".join(map(_show, allowed)), "value": _show(error.instance)}
                self._add(out, rule, "plan.property.enum", base, schema_path, "", detail)
            else:
                self._add(out, rule, "plan.property.invalid", base, schema_path, error.message)

    def _add(
        self,
        out: list[PlanViolation],
        rule: CompiledRule,
        code: str,
        path: str,
        schema_path: str,
        detail: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        severity = self._severity[code]
        if code == "plan.property.unplanned" and code not in self.plan.severities:
            severity = "error"  # the schema itself forbids extras (additionalProperties: false)
        if severity is None:
            return
        fields = {"what": _what(path), "field": _field(path), "rule": rule.label, "detail": detail, **(extra or {})}
        out.append(PlanViolation(code, severity, path, PLAN_RULES[code].message(**fields), rule.ref(schema_path)))


_PROJECTABLE = frozenset({"$schema", "$id", "type", "properties", "required", "title", "description", "labels"})


def _closed(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` with `additionalProperties: false` on every object the listing checks (see `Listing.of`)."""
    closed = dict(schema)
    if Listing.of(schema) is None:
        return closed
    closed["additionalProperties"] = False
    closed["properties"] = {
        key: _closed(sub) if isinstance(sub, Mapping) else sub for key, sub in schema["properties"].items()
    }
    return closed


def _projection(schema: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The top-level keys a schema constrains, when it only constrains keys it names (else None)."""
    if not set(schema) <= _PROJECTABLE or not isinstance(schema.get("properties", {}), Mapping):
        return None
    kind = schema.get("type", "object")
    if kind != "object":
        return None
    names = [*schema.get("properties", {}), *schema.get("required", [])]
    return tuple(dict.fromkeys(str(name) for name in names))


def _what(path: str) -> str:
    parts = path.split("/")
    return _WHAT.get(parts[1], "field") if len(parts) > 2 else "field"


def _field(path: str) -> str:
    parts = path.split("/")
    if len(parts) <= 1:
        return "(the call)"
    tail = parts[2:] if len(parts) > 2 and parts[1] in _WHAT else parts[1:]
    return ".".join(part.replace("~1", "/").replace("~0", "~") for part in tail)


def _required_here(schema: Mapping[str, Any], error: Any) -> bool:
    """Whether a null that fails `type` is a required property (properties/<name>/type in a schema requiring it)."""
    path = list(error.schema_path)
    if len(path) < 3 or path[-3] != "properties" or not error.instance_path:
        return False
    node: Any = schema
    for part in path[:-3]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(node, Mapping) and path[-2] in (node.get("required") or [])


def _all_type_errors(details: Mapping[str, Any]) -> bool:
    branches = details.get("context") or []
    return bool(branches) and all(
        branch and all(err.kind.name == "type" and not err.instance_path for err in branch) for branch in branches
    )


def _expected_types(details: Mapping[str, Any]) -> str:
    names: list[str] = []
    for branch in details.get("context") or []:
        for err in branch:
            names.extend(t for t in err.kind.as_dict().get("types", []) if t not in names)
    return " or ".join(names)


def _show(value: Any) -> str:
    return (
        repr(value)
        if isinstance(value, str)
        else "null"
        if value is None
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
