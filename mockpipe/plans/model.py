"""The tracking-plan model: a team's event contract as rules, each a JSON Schema over the whole call.

A plan is plain data (frozen dataclasses), whatever format it was imported from: the importers in
`mockpipe.plans.formats` build it, `mockpipe.plans.check` compiles it once and checks calls against
it, `mockpipe.plans.export` writes it back in mockpipe's own format. Every rule keeps where it came
from (format, file, place in the file) so that a violation can send a reviewer to the right line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mockpipe.errors import MockpipeError

RuleKind = Literal["track", "identify", "group", "page", "screen", "common"]
RULE_KINDS: tuple[RuleKind, ...] = ("track", "identify", "group", "page", "screen", "common")
# The kinds whose rules are keyed by a name (the event name, the page or screen name).
NAMED_KINDS: frozenset[str] = frozenset({"track", "page", "screen"})
# The part of a call each kind's properties live in: identify and group carry traits.
SECTION: dict[str, str] = {
    "track": "properties",
    "page": "properties",
    "screen": "properties",
    "identify": "traits",
    "group": "traits",
    "common": "properties",
}
PlanSeverity = Literal["error", "warning", "off"]
SEVERITY_CHOICES: tuple[str, ...] = ("error", "warning", "off")


class PlanError(MockpipeError, ValueError):
    """A plan that cannot be read: names the file, the place in it and what was expected there."""

    def __init__(self, expected: str, *, file: str | None = None, place: str = "") -> None:
        self.expected = expected
        self.file = file
        self.place = place
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<plan>"
        at = f" at {self.place}" if self.place else ""
        return f"cannot read tracking plan {where}{at}: expected {self.expected}"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a rule (or a whole plan) came from: the format, the file and the place in that file.

    `place` is a JSON pointer into the document as parsed (YAML documents too, prefixed with the
    document's index when a file holds several: `#1/spec/rules/0`).
    """

    format: str
    file: str | None = None
    place: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "file": self.file, "place": self.place}


@dataclass(frozen=True, slots=True)
class PlanRule:
    """One rule: a JSON Schema over the whole call (draft-04 to 2020-12, named by its `$schema`).

    `name` is the event name (track) or the page or screen name; None for identify, group and
    common rules and for a page or screen rule that applies to every page or screen.
    `allow_unplanned` overrides the plan's `allow_unplanned_properties` for this rule.
    """

    kind: RuleKind
    name: str | None
    schema: Mapping[str, Any]
    source: Source
    description: str | None = None
    version: str | None = None
    allow_unplanned: bool | None = None

    @property
    def key(self) -> str:
        """A stable key naming the rule: `track:Order Completed`, `identify`, `page:*`, `common:0`..."""
        if self.kind in NAMED_KINDS:
            return f"{self.kind}:{'*' if self.name is None else self.name}"
        return self.kind

    @property
    def section(self) -> str:
        """The part of the call that holds this rule's properties (`properties` or `traits`)."""
        return SECTION[self.kind]


@dataclass(frozen=True, slots=True)
class Plan:
    """A tracking plan: its rules, what it says about unplanned events and properties, its severities.

    `severities` overrides the default severity of a plan code ("error", "warning" or "off").
    """

    rules: tuple[PlanRule, ...]
    source: Source
    name: str | None = None
    description: str | None = None
    allow_unplanned_events: bool = True
    allow_unplanned_properties: bool = True
    severities: Mapping[str, PlanSeverity] = field(default_factory=dict)

    def rules_of(self, kind: RuleKind) -> tuple[PlanRule, ...]:
        return tuple(rule for rule in self.rules if rule.kind == kind)

    def rule(self, kind: RuleKind, name: str | None = None) -> PlanRule | None:
        """The rule of this kind (and name), or None."""
        for found in self.rules:
            if found.kind == kind and found.name == name:
                return found
        return None

    @property
    def events(self) -> tuple[str, ...]:
        """The planned track event names, in plan order."""
        return tuple(rule.name for rule in self.rules if rule.kind == "track" and rule.name is not None)

    def lists_names(self, kind: str) -> bool:
        """Whether the plan names the events of this kind, so an unknown name is unplanned."""
        return any(rule.kind == kind and rule.name is not None for rule in self.rules)


def section_schema(rule: PlanRule) -> Mapping[str, Any] | None:
    """The schema of the rule's section (`properties` or `traits`) when the rule's schema spells one out."""
    props = rule.schema.get("properties")
    if not isinstance(props, Mapping):
        return None
    found = props.get(rule.section)
    return found if isinstance(found, Mapping) else None


def wrap_section(
    section: str, schema: Mapping[str, Any], *, dialect: str | None = None, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A whole-call schema from a schema over one section of the call (and optionally others).

    The section is required when its own schema requires something, so that a call missing the
    whole object is reported instead of passing unchecked. The inner `$schema` moves to the top.
    """
    sections = {section: dict(schema), **{k: dict(v) for k, v in (extra or {}).items()}}
    inner_dialect = None
    for value in sections.values():
        inner_dialect = value.pop("$schema", None) or inner_dialect
    wrapped: dict[str, Any] = {}
    if dialect or inner_dialect:
        wrapped["$schema"] = dialect or inner_dialect
    wrapped["type"] = "object"
    wrapped["properties"] = sections
    required = [name for name, value in sections.items() if value.get("required")]
    if required:
        wrapped["required"] = required
    return wrapped
