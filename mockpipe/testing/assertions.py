"""Expectations on the calls of one write key, and failure messages that explain themselves.

An `Expectation` is a call type plus a subset of fields; `differences` says where a payload departs
from it; `await_expectation` waits on the journal (its condition, never a sleep loop) until the
expectation holds or time runs out, and then raises `CallAssertionError` naming what was expected
and the closest calls that did arrive, with the fields that differ. No pytest here: any test runner
(or script) holding a `Journal` and a write key can use it.
"""

from __future__ import annotations

import reprlib
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from mockpipe.emulator.ingest import SPEC_VIOLATION
from mockpipe.errors import CallAssertionError
from mockpipe.journal.journal import CallQuery, RequestQuery
from mockpipe.spec.rules import Violation

if TYPE_CHECKING:
    from mockpipe.journal.journal import Call, Journal, RequestRecord
    from mockpipe.types import JSONObject

MAX_NEAR_MISSES = 3
MAX_LISTED_CALLS = 10

# Payload keys that the journal indexes: filtering on them is cheap, and they lead a description.
_INDEXED = {"event": "event", "name": "name", "userId": "user_id", "anonymousId": "anonymous_id"}
_LEADING = ("event", "name", "userId", "anonymousId", "previousId", "groupId")

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxdict = 6
_repr.maxlist = 6


def show(value: Any) -> str:
    """A short repr for messages: long strings and containers are abridged."""
    return "<missing>" if value is MISSING else _repr.repr(value)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class Difference(NamedTuple):
    """Where a payload departs from an expectation: a readable path, what was expected and what is there."""

    path: str
    expected: Any
    actual: Any  # MISSING when the key is absent

    def __str__(self) -> str:
        return f"{self.path}: expected {show(self.expected)}, got {show(self.actual)}"


def differences(expected: Any, actual: Any, path: str = "") -> list[Difference]:
    """How `actual` fails to contain `expected`; empty when it does.

    Dicts match as subsets, recursively (`None` expects the key to be absent or null); lists match
    item by item and must have the same length; anything else compares with `==`, so `unittest.mock.ANY`
    matches any value.
    """
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [Difference(path or "(call)", expected, actual)]
        found: list[Difference] = []
        for key, want in expected.items():
            inner = f"{path}.{key}" if path else str(key)
            got = actual.get(key, MISSING)
            if want is None and (got is MISSING or got is None):
                continue
            if got is MISSING:
                found.append(Difference(inner, want, MISSING))
            else:
                found.extend(differences(want, got, inner))
        return found
    if isinstance(expected, list | tuple) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [Difference(path, list(expected), actual)]
        found = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found.extend(differences(want, got, f"{path}[{index}]"))
        return found
    return [] if expected == actual else [Difference(path, expected, actual)]


@dataclass(frozen=True, kw_only=True)
class Expectation:
    """Calls of one type whose payload contains `fields` (camelCase keys, as on the wire).

    `count=None` asks for at least one; a number asks for exactly that many (0: none arrives).
    """

    type: str
    fields: JSONObject = field(default_factory=dict)
    count: int | None = None

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 0:
            raise ValueError("count must not be negative")

    def query(self, write_key: str) -> CallQuery:
        """The journal query narrowing the candidates: the type, and the indexed fields given as text."""
        indexed = {
            attribute: self.fields[key] for key, attribute in _INDEXED.items() if isinstance(self.fields.get(key), str)
        }
        return CallQuery(write_key=write_key, type=self.type, **indexed)

    def differences(self, payload: JSONObject) -> list[Difference]:
        if payload.get("type") != self.type:
            return [Difference("type", self.type, payload.get("type", MISSING))]
        return differences(self.fields, payload)

    def matches(self, payload: JSONObject) -> bool:
        return not self.differences(payload)

    def describe(self) -> str:
        """`a track call with event='Signed Up', userId='u1', properties containing {'plan': 'pro'}`."""
        if self.count is None:
            head = f"{'an' if self.type[:1] in 'aeiou' else 'a'} {self.type} call"
        elif self.count == 0:
            head = f"no {self.type} call"
        else:
            head = f"exactly {self.count} {self.type} call{'s' if self.count != 1 else ''}"
        ordered = [key for key in _LEADING if key in self.fields] + [key for key in self.fields if key not in _LEADING]
        parts = [
            f"{key} containing {show(self.fields[key])}"
            if isinstance(self.fields[key], Mapping)
            else f"{key}={show(self.fields[key])}"
            for key in ordered
        ]
        return head + (" with " + ", ".join(parts) if parts else "")


@dataclass(slots=True)
class Observation:
    """The calls of a write key at one moment, decoded once, and those matching an expectation."""

    calls: list[Call]
    payloads: list[JSONObject]
    matching: list[int]  # positions in `calls`


def observe(journal: Journal, write_key: str, expectation: Expectation) -> Observation:
    calls = journal.calls(write_key=write_key)
    payloads = [call.payload for call in calls]
    matching = [i for i, payload in enumerate(payloads) if expectation.matches(payload)]
    return Observation(calls, payloads, matching)


def await_expectation(
    journal: Journal, write_key: str, expectation: Expectation, *, timeout: float
) -> list[JSONObject]:
    """Wait until `expectation` holds for the calls of `write_key`; returns the matching payloads.

    At least one (`count=None`) or exactly `count`: returns as soon as that many match, fails as soon
    as more do. `count=0` watches the whole `timeout` (a grace period) for a call that should not
    come. Each wait blocks on the journal's condition until the next call of this key lands.
    Raises `CallAssertionError` on failure.
    """
    __tracebackhide__ = True  # pytest shows the failing test's line, not this loop
    wanted = 1 if expectation.count is None else expectation.count
    deadline = time.monotonic() + timeout
    while True:
        seen = observe(journal, write_key, expectation)
        found = len(seen.matching)
        too_many = expectation.count is not None and found > expectation.count
        if not too_many and found >= wanted and wanted > 0:
            return [seen.payloads[i] for i in seen.matching]
        remaining = deadline - time.monotonic()
        if too_many or remaining <= 0:
            if wanted == 0 and not too_many:
                return []
            raise CallAssertionError(
                explain(
                    expectation,
                    seen,
                    waited=timeout,
                    write_key=write_key,
                    requests=journal.requests(RequestQuery(write_key=write_key)),
                )
            )
        # Sleep on the journal's condition until a call that could change the verdict lands.
        last = seen.calls[-1].id if seen.calls else 0
        journal.wait_for(1, remaining, replace(expectation.query(write_key), after=last))


def explain(
    expectation: Expectation,
    seen: Observation,
    *,
    waited: float,
    write_key: str,
    requests: Sequence[RequestRecord] = (),
) -> str:
    """The failure message: what was expected, what arrived, the near misses and how they differ."""
    lines = [f"expected {expectation.describe()}"]
    total = len(seen.calls)
    found = len(seen.matching)
    if expectation.count is not None and found > expectation.count:
        lines.append(f"but {found} matched:")
        lines.extend(f"  {describe_call(i, seen.payloads[i])}" for i in seen.matching[:MAX_LISTED_CALLS])
        return "\n".join(lines)
    if expectation.count is not None and found:
        lines.append(f"but only {found} matched after waiting {waited:g} s:")
        lines.extend(f"  {describe_call(i, seen.payloads[i])}" for i in seen.matching[:MAX_LISTED_CALLS])
        return "\n".join(lines)
    if not total:
        lines.append(f"but no call arrived for write key {write_key!r} within {waited:g} s.")
        lines.extend(_rejections(requests))
        lines.append(
            "Check that the client was given this server's url and write key, and that it flushed "
            "(background consumers send in batches)."
        )
        return "\n".join(lines)
    near = near_misses(expectation, seen.payloads)
    plural = "s" if total != 1 else ""
    lines.append(f"but none of the {total} call{plural} received in {waited:g} s matched.")
    if near:
        lines.append("Closest calls:")
        for index, diffs in near:
            lines.append(f"  {describe_call(index, seen.payloads[index])}")
            lines.extend(f"      {diff}" for diff in diffs)
    else:
        lines.append(f"No {expectation.type} call arrived.")
    others = Counter(p.get("type", "?") for p in seen.payloads if p.get("type") != expectation.type)
    if others:
        lines.append("Other calls: " + ", ".join(f"{n} {kind}" for kind, n in sorted(others.items())) + ".")
    lines.extend(_rejections(requests))
    return "\n".join(lines)


def near_misses(
    expectation: Expectation,
    payloads: Sequence[JSONObject],
    *,
    most: int = MAX_NEAR_MISSES,
) -> list[tuple[int, list[Difference]]]:
    """The calls of the expected type closest to it (fewest differing fields first, then oldest first)."""
    scored = [
        (len(diffs), index, diffs)
        for index, payload in enumerate(payloads)
        if payload.get("type") == expectation.type
        for diffs in [expectation.differences(payload)]
        if diffs
    ]
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [(index, diffs) for _, index, diffs in scored[:most]]


def describe_call(index: int, payload: JSONObject) -> str:
    """One line per call: `[2] track 'Order Completed' userId='u1'` (index: position in the test's calls)."""
    kind = payload.get("type", "?")
    label = payload.get("event") if kind == "track" else payload.get("name")
    parts = [f"[{index}] {kind}"]
    if label is not None:
        parts.append(show(label))
    for key in ("userId", "anonymousId", "groupId", "previousId"):
        if payload.get(key) is not None:
            parts.append(f"{key}={show(payload[key])}")
    return " ".join(parts)


def describe_calls(payloads: Sequence[JSONObject], *, most: int = MAX_LISTED_CALLS) -> list[str]:
    lines = [describe_call(i, payload) for i, payload in enumerate(payloads[:most])]
    if len(payloads) > most:
        lines.append(f"... and {len(payloads) - most} more")
    return lines


def _rejections(requests: Sequence[RequestRecord]) -> list[str]:
    rejected = [r for r in requests if not r.accepted]
    if not rejected:
        return []
    lines = [f"{len(rejected)} request(s) with this write key were not accepted:"]
    lines.extend(f"  {r.method} {r.path} -> {r.status} {r.reason}: {r.message}" for r in rejected[:MAX_NEAR_MISSES])
    return lines


def violations_of(calls: Sequence[Call], requests: Sequence[RequestRecord]) -> list[Violation]:
    """Every violation of a test's traffic, as JSON pointers into `{"calls": [...], "requests": [...]}`.

    Call violations point into the call's position (`/calls/2/properties/revenue`); problems of a
    request as a whole (an empty batch, a body that is not JSON) into the request (`/requests/0/batch`).
    """
    found = [v.at(f"/calls/{i}") for i, call in enumerate(calls) for v in call.violations]
    for j, request in enumerate(requests):
        found.extend(v.at(f"/requests/{j}") for v in request.violations)
        # A strict answer to invalid calls is already told by the calls' own violations.
        if not request.accepted and request.reason not in (None, SPEC_VIOLATION) and not request.violations:
            found.append(Violation(request.reason, "error", f"/requests/{j}", request.message or request.reason))
    return found


def format_violations(violations: Sequence[Violation]) -> list[str]:
    """`identity.required at /calls/0: track call has neither userId nor anonymousId`, one per line
    (a plan violation adds the plan rule it came from: `[plan: track:Signed Up in plan.yaml#/track]`)."""
    return [v.describe() for v in violations]
