"""The plan codes, a catalogue like `mockpipe.spec.rules.RULES`, and the record of one plan violation.

A plan violation is a spec `Violation` (code, severity, JSON pointer, message) plus the plan rule it
came from, in a `plan` field; `to_violation()` gives the journal's `Violation`, which keeps that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockpipe.errors import UnknownRuleError
from mockpipe.spec.rules import Rule, Violation
from mockpipe.types import CALL_TYPES, Severity

NAMED = ("track", "page", "screen")

_CATALOGUE: tuple[Rule, ...] = (
    Rule(
        "plan.event.unplanned",
        "warning",
        NAMED,
        "a track event (or page or screen name, when the plan names them) the plan does not know; "
        "an error when the plan forbids unplanned events",
        "{kind} {name!r} is not in the tracking plan",
    ),
    Rule(
        "plan.property.required",
        "error",
        CALL_TYPES,
        "a property or trait the plan requires is absent (or null where its schema forbids null)",
        "{what} {field!r} is required by the tracking plan ({rule}){detail}",
    ),
    Rule(
        "plan.property.type",
        "error",
        CALL_TYPES,
        "a property or trait of another JSON type than the plan says",
        "{what} {field!r} must be {expected} by the tracking plan ({rule}), got {kind}",
    ),
    Rule(
        "plan.property.enum",
        "error",
        CALL_TYPES,
        "a property or trait outside the values the plan allows",
        "{what} {field!r} must be one of {allowed} by the tracking plan ({rule}), got {value}",
    ),
    Rule(
        "plan.property.unplanned",
        "warning",
        CALL_TYPES,
        "a property or trait the plan's rule does not list; an error when the rule forbids extras",
        "{what} {field!r} is not in the tracking plan ({rule})",
    ),
    Rule(
        "plan.property.invalid",
        "error",
        CALL_TYPES,
        "a property or trait that breaks another keyword of the plan's schema (pattern, format, bounds, "
        "length, items, ...)",
        "{what} {field!r} breaks the tracking plan ({rule}): {detail}",
    ),
)

PLAN_RULES: dict[str, Rule] = {rule.code: rule for rule in _CATALOGUE}


def plan_rule(code: str) -> Rule:
    """The plan rule with this code; raises `UnknownRuleError` for another code."""
    try:
        return PLAN_RULES[code]
    except KeyError:
        raise UnknownRuleError(code) from None


@dataclass(frozen=True, slots=True)
class PlanViolation:
    """A plan rule broken by one call, at a JSON pointer `path` inside the call.

    `plan` names the rule: kind, event (name), format, file, place (in the file) and schema_path
    (a JSON pointer into the rule's whole-call schema, "" for unplanned events and properties).
    """

    code: str
    severity: Severity
    path: str
    message: str
    plan: Mapping[str, Any]

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "plan": dict(self.plan),
        }

    def at(self, prefix: str) -> PlanViolation:
        """The same violation with its path moved under `prefix` (a batch item's pointer)."""
        return PlanViolation(self.code, self.severity, prefix + self.path, self.message, self.plan)

    def to_violation(self) -> Violation:
        """The spec `Violation` of this record (what the journal keeps), `plan` field included."""
        return Violation(self.code, self.severity, self.path, self.message, dict(self.plan))


def plan_catalogue_markdown() -> str:
    """The plan codes as a Markdown table, in the shape of the spec catalogue's."""
    lines = ["| Code | Default severity | Applies to | What it checks |", "|---|---|---|---|"]
    lines += [f"| `{r.code}` | {r.severity} | {', '.join(r.applies_to)} | {r.summary} |" for r in PLAN_RULES.values()]
    return "\n".join(lines) + "\n"
