"""The diff of two contracts (any two plans): changes per event, each breaking or compatible.

A change is breaking when something a downstream consumer relied on can disappear or change type;
compatible when every call the new contract allows was already allowed by the old one for what the
consumer reads (a new event or property, a narrower type, a property now always sent). `RULES` is
the table of every kind of change with its class and the reason, as docs/contracts.md shows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from mockpipe.contracts.facts import EventFacts, Fact, plan_facts
from mockpipe.contracts.infer import EventKey, event_label
from mockpipe.plans.model import SECTION, Plan

Severity = Literal["breaking", "compatible"]
FAIL_ON = ("breaking", "any", "never")


@dataclass(frozen=True, slots=True)
class ChangeRule:
    code: str
    what: str
    severity: Severity
    reason: str


RULES: dict[str, ChangeRule] = {
    rule.code: rule
    for rule in (
        ChangeRule("event.removed", "event removed", "breaking", "consumers of the event stop receiving it"),
        ChangeRule("event.added", "event added", "compatible", "nothing a consumer reads changes"),
        ChangeRule("property.removed", "property removed", "breaking", "consumers reading it get nothing"),
        ChangeRule("property.added", "property added", "compatible", "consumers that ignore it are unaffected"),
        ChangeRule(
            "type.changed", "type changed", "breaking", "values of a type consumers never received before arrive"
        ),
        ChangeRule(
            "type.widened",
            "type widened",
            "breaking",
            "a new type among the old ones (a null, a string for a number) breaks code written for the old ones",
        ),
        ChangeRule(
            "type.narrowed", "type narrowed", "compatible", "every value sent is of a type consumers already handle"
        ),
        ChangeRule(
            "property.optional", "became optional", "breaking", "consumers relying on it being always sent can miss it"
        ),
        ChangeRule("property.required", "became required", "compatible", "it is sent more often, never less"),
        ChangeRule(
            "enum.added", "enum values added", "breaking", "consumers mapping every known value meet an unknown one"
        ),
        ChangeRule("enum.removed", "enum values removed", "compatible", "every value sent was already allowed"),
        ChangeRule(
            "format.changed",
            "format changed or dropped",
            "breaking",
            "consumers parsing the format (a date, an email) meet strings that are not in it",
        ),
        ChangeRule("format.added", "format added", "compatible", "the strings sent were already strings"),
    )
}


@dataclass(frozen=True, slots=True)
class Change:
    """One change: the event, the property path (None for the event itself), the rule, old and new."""

    key: EventKey
    path: str | None
    code: str
    old: str | None
    new: str | None
    detail: str = ""

    @property
    def rule(self) -> ChangeRule:
        return RULES[self.code]

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def breaking(self) -> bool:
        return self.severity == "breaking"

    @property
    def subject(self) -> str:
        """`Order Completed.properties.coupon`, `identify.traits.email`, or the event alone."""
        label = event_label(self.key)
        return label if self.path is None else f"{label}.{SECTION[self.key[0]]}.{self.path}"

    @property
    def line(self) -> str:
        """One line saying the change: `- Order Completed.properties.coupon: string, optional (property removed)`."""
        sign = {"event.removed": "-", "property.removed": "-", "event.added": "+", "property.added": "+"}
        mark = sign.get(self.code, "~")
        if self.code in ("property.removed", "property.added"):
            return f"{mark} {self.subject}: {self.old or self.new} ({self.rule.what})"
        if self.path is None:
            return f"{mark} {self.subject} ({self.rule.what})"
        change = self.detail or f"{self.old} -> {self.new}"
        return f"{mark} {self.subject}: {change} ({self.rule.what})"

    def to_data(self) -> dict[str, Any]:
        return {
            "event": event_label(self.key),
            "type": self.key[0],
            "name": self.key[1],
            "path": self.path,
            "code": self.code,
            "severity": self.severity,
            "old": self.old,
            "new": self.new,
            "line": self.line,
            "reason": self.rule.reason,
        }


@dataclass(frozen=True, slots=True)
class ContractDiff:
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> list[Change]:
        return [change for change in self.changes if change.breaking]

    @property
    def compatible(self) -> list[Change]:
        return [change for change in self.changes if not change.breaking]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def fails(self, fail_on: str) -> bool:
        """Whether the changes fail a check run with `--fail-on` breaking, any or never."""
        if fail_on not in FAIL_ON:
            raise ValueError(f"--fail-on takes {', '.join(FAIL_ON)}, not {fail_on!r}")
        return bool(self.breaking) if fail_on == "breaking" else bool(self.changes) and fail_on == "any"

    def to_data(self) -> dict[str, Any]:
        return {
            "breaking": len(self.breaking),
            "compatible": len(self.compatible),
            "changes": [change.to_data() for change in self.changes],
        }


def diff_plans(old: Plan, new: Plan) -> ContractDiff:
    """What changed from the old plan (or contract) to the new one, per event, sorted."""
    before, after = plan_facts(old), plan_facts(new)
    changes: list[Change] = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], k[1] or "")):
        if key not in after:
            changes.append(Change(key, None, "event.removed", event_label(key), None))
        elif key not in before:
            changes.append(Change(key, None, "event.added", None, event_label(key)))
        else:
            changes.extend(_event_changes(key, before[key], after[key]))
    return ContractDiff(tuple(changes))


def _event_changes(key: EventKey, old: EventFacts, new: EventFacts) -> Iterable[Change]:
    gone: list[str] = []
    came: list[str] = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            if not _under(path, gone):  # a removed object's properties go with it
                gone.append(path)
                yield Change(key, path, "property.removed", old[path].spec, None)
        elif path not in old:
            if not _under(path, came):
                came.append(path)
                yield Change(key, path, "property.added", None, new[path].spec)
        else:
            yield from _property_changes(key, path, old[path], new[path])


def _under(path: str, parents: list[str]) -> bool:
    return any(path.startswith(parent + ".") or path.startswith(parent + "[]") for parent in parents)


def _property_changes(key: EventKey, path: str, old: Fact, new: Fact) -> Iterable[Change]:
    if old.types != new.types:
        added, dropped = _not_covered(new.types, old.types), _not_covered(old.types, new.types)
        code = "type.changed" if added and dropped else "type.widened" if added else "type.narrowed"
        if added or dropped:
            yield Change(key, path, code, _types(old.types), _types(new.types))
    if old.required and not new.required:
        yield Change(key, path, "property.optional", "required", "optional", "was always sent, now optional")
    elif new.required and not old.required:
        yield Change(key, path, "property.required", "optional", "required", "now always sent")
    if old.enum != new.enum:
        if new.enum is None or (old.enum is not None and new.enum - old.enum):
            added_values = "any value" if new.enum is None else ", ".join(sorted(new.enum - (old.enum or set())))
            yield Change(key, path, "enum.added", _values(old.enum), _values(new.enum), f"now also {added_values}")
        if old.enum is None or (new.enum is not None and old.enum - new.enum):
            detail = (
                f"now only {_values(new.enum)}"
                if old.enum is None
                else f"no longer {', '.join(sorted(old.enum - (new.enum or set())))}"
            )
            yield Change(key, path, "enum.removed", _values(old.enum), _values(new.enum), detail)
    if old.format != new.format:
        code = "format.added" if old.format is None else "format.changed"
        yield Change(key, path, code, old.format or "no format", new.format or "no format")


def _not_covered(types: frozenset[str], by: frozenset[str]) -> set[str]:
    """The types among `types` that `by` does not allow (no types: any; number allows integers)."""
    if not by:
        return set()
    if not types:
        return {"any"}
    return {t for t in types if t not in by and not (t == "integer" and "number" in by)}


def _types(types: frozenset[str]) -> str:
    return "|".join(sorted(types)) or "any"


def _values(values: frozenset[str] | None) -> str:
    return "any value" if values is None else "{" + ", ".join(sorted(values)) + "}"
