"""Expectations on the calls of one write key, and failure messages that explain themselves.

An `Expectation` (`mockpipe.testing.matching`) is a call type plus a subset of fields and a verdict
(accepted calls only, by default); `await_expectation` waits on the journal (its condition, never a
sleep loop) until the expectation holds or time runs out, and then raises `CallAssertionError` with
the explanation of `mockpipe.testing.explanation`: what was expected, the closest calls that did
arrive and the fields that differ, the matching calls the server refused, and the other write keys
that received calls. `wait_expectation_async` is the same wait for an event loop (`POST
/mockpipe/expect`). No pytest and no web code here: any test runner (or script) holding a `Journal`
and a write key can use it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from mockpipe.errors import CallAssertionError
from mockpipe.journal.queries import RequestQuery
from mockpipe.spec.rules import Violation
from mockpipe.testing.explanation import (
    MAX_NEAR_MISSES,
    SPEC_VIOLATION,
    Explanation,
    Observation,
    explain,
    last_call_id,
    near_misses,
    observe,
    other_keys,
    verdict,
)
from mockpipe.testing.matching import (
    MAX_LISTED_CALLS,
    MISSING,
    Difference,
    Expectation,
    describe_call,
    describe_calls,
    differences,
    show,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mockpipe.journal.journal import Call, Journal, RequestRecord
    from mockpipe.types import JSONObject

__all__ = [
    "MAX_LISTED_CALLS",
    "MAX_NEAR_MISSES",
    "MISSING",
    "Difference",
    "Expectation",
    "Explanation",
    "Observation",
    "Outcome",
    "await_expectation",
    "describe_call",
    "describe_calls",
    "differences",
    "explain",
    "format_violations",
    "near_misses",
    "observe",
    "show",
    "violations_of",
    "wait_expectation",
    "wait_expectation_async",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a wait for an expectation ended: the matching payloads, and the explanation when it failed."""

    payloads: list[JSONObject]
    explanation: Explanation | None = None
    calls: list[Call] = field(default_factory=list)  # the journal's records of the matching calls

    @property
    def ok(self) -> bool:
        return self.explanation is None


def _settled(
    journal: Journal, write_key: str, expectation: Expectation, remaining: float, *, waited: float, since: int
) -> tuple[Outcome | None, int]:
    """The outcome if the wait is over (it holds, it cannot hold any more, or time is up); else None
    and the id of the newest call of the key, after which the next wait looks."""
    seen = observe(journal, write_key, expectation)
    why = verdict(expectation, seen)
    wanted = 1 if expectation.count is None else expectation.count
    matched = [seen.calls[i] for i in seen.matching]
    if why is None and wanted > 0:
        return Outcome(seen.matched, None, matched), 0
    if why == "too_many" or remaining <= 0:
        if wanted == 0 and why != "too_many":
            return Outcome([]), 0
        requests = journal.requests(RequestQuery(write_key=write_key))
        others = other_keys(journal, write_key, since) if why == "no_calls" else []
        found = explain(expectation, seen, waited=waited, write_key=write_key, requests=requests, others=others)
        return Outcome(seen.matched, found, matched), 0
    return None, seen.calls[-1].id if seen.calls else 0


def wait_expectation(
    journal: Journal, write_key: str, expectation: Expectation, *, timeout: float, since: int | None = None
) -> Outcome:
    """Wait until `expectation` holds for the calls of `write_key`, or fails for good, or `timeout` passes.

    At least one (`count=None`) or exactly `count`: ends as soon as that many match, fails as soon as
    more do. `count=0` watches the whole `timeout` (a grace period) for a call that should not come.
    Each wait blocks on the journal's condition until the next call of this key lands. `since` (a call
    id; the newest call now by default) is where a "no call arrived" failure starts looking for other
    write keys that received calls.
    """
    start = last_call_id(journal) if since is None else since
    deadline = time.monotonic() + timeout
    while True:
        outcome, last = _settled(
            journal, write_key, expectation, deadline - time.monotonic(), waited=timeout, since=start
        )
        if outcome is not None:
            return outcome
        # Sleep on the journal's condition until a call that could change the verdict lands.
        journal.wait_for(1, deadline - time.monotonic(), replace(expectation.query(write_key), after=last))


async def wait_expectation_async(
    journal: Journal, write_key: str, expectation: Expectation, *, timeout: float, since: int | None = None
) -> Outcome:
    """`wait_expectation` for an event loop: suspends on the journal's event instead of blocking a thread.
    Ends early, judged on what arrived, when the journal releases its waits (the server is stopping)."""
    start = last_call_id(journal) if since is None else since
    deadline = time.monotonic() + timeout
    releases = journal.releases
    while True:
        remaining = 0.0 if journal.releases != releases else deadline - time.monotonic()
        outcome, last = _settled(journal, write_key, expectation, remaining, waited=timeout, since=start)
        if outcome is not None:
            return outcome
        query = replace(expectation.query(write_key), after=last)
        await journal.wait_for_async(1, max(0.0, deadline - time.monotonic()), query)


def await_expectation(
    journal: Journal, write_key: str, expectation: Expectation, *, timeout: float, since: int | None = None
) -> list[JSONObject]:
    """Wait until `expectation` holds for the calls of `write_key`; returns the matching payloads.

    Raises `CallAssertionError` explaining the failure (see `wait_expectation`; its `explanation` holds the parts).
    """
    __tracebackhide__ = True  # pytest shows the failing test's line, not this loop
    outcome = wait_expectation(journal, write_key, expectation, timeout=timeout, since=since)
    if outcome.explanation is not None:
        error = CallAssertionError(outcome.explanation.message)
        error.explanation = outcome.explanation
        raise error
    return outcome.payloads


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
