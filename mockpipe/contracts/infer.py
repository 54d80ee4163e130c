"""Inferring a contract from calls: per call type and event, the shape of its properties or traits.

    contract = Contract()
    contract.observe_all(payloads)                    # enriched payloads, as the journal keeps them
    contract.merge(Contract.from_data(partial))       # another worker's observations
    contract.to_plan()                                # a Plan: PlanChecker enforces it
    contract.render()                                 # the contract file: sorted, stable, one line per fact

Track calls are keyed by event, page and screen calls by name (no name: `*`), identify and group
calls by their type; their properties (traits for identify and group) are observed as a `Shape`.
Only sums are kept, so observations merge in any order into the same contract. Call counts and the
tests that sent each event are kept too, but written to the file only when asked (`sources=True`):
a count or a test name changes with every new test, the contract should not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import yaml

from mockpipe.contracts.shape import Shape
from mockpipe.plans.document import pointer
from mockpipe.plans.export import plan_to_data
from mockpipe.plans.model import NAMED_KINDS, SECTION, Plan, PlanRule, RuleKind, Source, wrap_section

EVENT_KINDS: tuple[RuleKind, ...] = ("track", "page", "screen", "identify", "group")
HEADER = "# mockpipe contract: what the tests sent, one line per fact (docs/contracts.md)\n"
FORMAT = "inferred"

EventKey = tuple[str, str | None]  # (call type, event or page/screen name; None for identify, group, unnamed)


def event_key(payload: Mapping[str, Any]) -> EventKey | None:
    """Which event of the contract a call belongs to, or None for calls a contract does not describe."""
    kind = payload.get("type")
    if kind == "track":
        event = payload.get("event")
        return ("track", event) if isinstance(event, str) and event else None
    if kind in ("page", "screen"):
        name = payload.get("name")
        return (kind, name if isinstance(name, str) and name else None)
    if kind in ("identify", "group"):
        return (kind, None)
    return None


def event_label(key: EventKey) -> str:
    """How a change names the event: `Order Completed`, `page:Home`, `page:*`, `identify`, `group`."""
    kind, name = key
    if kind == "track":
        return str(name)
    if kind in NAMED_KINDS:
        return f"{kind}:{'*' if name is None else name}"
    return kind


@dataclass
class EventShape:
    """One event's observations: how many calls, the shape of their properties, the tests that sent them."""

    calls: int = 0
    section: Shape = field(default_factory=Shape)
    sources: set[str] = field(default_factory=set)

    def merge(self, other: EventShape) -> None:
        self.calls += other.calls
        self.section.merge(other.section)
        self.sources |= other.sources


class Contract:
    """Observations of calls, mergeable and order-independent, and the contract they make."""

    def __init__(self) -> None:
        self.events: dict[EventKey, EventShape] = {}

    def __len__(self) -> int:
        return sum(event.calls for event in self.events.values())

    def observe(self, payload: Mapping[str, Any], source: str | None = None) -> bool:
        """Count one call in; False when it is no event a contract describes (alias, a nameless track)."""
        key = event_key(payload)
        if key is None:
            return False
        event = self.events.setdefault(key, EventShape())
        event.calls += 1
        section = payload.get(SECTION[key[0]])
        event.section.observe(section if isinstance(section, Mapping) else {})  # absent: no key present
        if source:
            event.sources.add(source)
        return True

    def observe_all(self, payloads: Iterable[Mapping[str, Any]], source: str | None = None) -> Contract:
        for payload in payloads:
            self.observe(payload, source)
        return self

    def merge(self, other: Contract) -> Contract:
        for key, event in other.events.items():
            self.events.setdefault(key, EventShape()).merge(event)
        return self

    def ordered(self) -> list[tuple[EventKey, EventShape]]:
        return sorted(self.events.items(), key=lambda item: (item[0][0], item[0][1] or ""))

    # -- the contract -------------------------------------------------------------------------------

    def lines(self, key: EventKey) -> dict[str, tuple[str, int]]:
        """The event's field lines: path -> (spec, values seen)."""
        return self.events[key].section.lines()

    def to_plan(self) -> Plan:
        rules = []
        for key, _ in self.ordered():
            kind, name = key
            # From the shape, not the field lines: a name no line can hold (`""`) still gets its schema,
            # and the file falls back to JSON Schema for that event.
            schema = wrap_section(SECTION[kind], self.events[key].section.schema())
            place = pointer(kind) if name is None and kind not in NAMED_KINDS else pointer(kind, name or "*")
            rules.append(PlanRule(cast(RuleKind, kind), name, schema, Source(FORMAT, None, place)))
        return Plan(rules=tuple(rules), source=Source(FORMAT))

    def render(self, *, sources: bool = False) -> str:
        """The contract file: mockpipe's own plan format in YAML, field lines sorted, no counts."""
        data = plan_to_data(self.to_plan(), with_source=False, compact=True)
        if sources:
            for key, event in self.events.items():
                kind, name = key
                body = data[kind][name or "*"] if kind in NAMED_KINDS else data[kind]
                body["sources"] = sorted(event.sources)
        ordered = {"mockpipe_plan": data.pop("mockpipe_plan"), **_sorted(data)}  # the marker first, then sorted
        return HEADER + yaml.safe_dump(
            ordered, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
        )

    # -- as data (xdist's workeroutput, the HTTP API) ----------------------------------------------

    def to_data(self) -> dict[str, Any]:
        return {
            "events": [
                {
                    "type": kind,
                    "name": name,
                    "calls": event.calls,
                    "shape": event.section.to_data(),
                    "sources": sorted(event.sources),
                }
                for (kind, name), event in self.ordered()
            ]
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Contract:
        contract = cls()
        for entry in data.get("events", []):
            key: EventKey = (str(entry["type"]), entry.get("name"))
            event = EventShape(int(entry["calls"]), Shape.from_data(entry["shape"]), set(entry.get("sources", [])))
            contract.events.setdefault(key, EventShape()).merge(event)
        return contract


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value)}
    return value


def infer_contract(payloads: Iterable[Mapping[str, Any]]) -> Contract:
    return Contract().observe_all(payloads)
