"""The one explanation of an expectation that failed, as text and as JSON: shared by the Python
assertions (`CallAssertionError`'s message) and `POST /mockpipe/expect` (its 409 answer).

It names what was expected and then, as the case may be: the calls that matched (too many, too few),
the closest calls with the fields that differ, the matching calls the server refused (which request,
which rules, under strict mode), the requests it did not accept, and, when nothing arrived for the
write key, the other keys that did receive calls (the likeliest mistake: an SDK configured with
another key). No web code: a journal and a write key are all it reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.journal.queries import CallQuery
from mockpipe.testing.matching import MISSING, Difference, Expectation, describe_call

if TYPE_CHECKING:
    from mockpipe.journal.journal import Journal
    from mockpipe.journal.records import Call, RequestRecord
    from mockpipe.types import JSONObject

MAX_NEAR_MISSES = 3
MAX_LISTED_CALLS = 10
MAX_OTHER_KEYS = 3  # other write keys named in a "no call arrived" failure
MAX_OTHER_KEY_EVENTS = 3  # first event names shown per other key
OTHER_KEYS_SCAN = 10_000  # calls of other keys looked at, at most (a failure path, but a bounded one)
SPEC_VIOLATION = "spec.violation"  # the reason of a request refused for its calls' violations (strict)


@dataclass(slots=True)
class Observation:
    """The calls of a write key at one moment, decoded once; which the expectation counts (`eligible`:
    the verdict it asks for), which of those match (`matching`), and which match but carry the other
    verdict (`excluded`: refused calls, for an expectation of accepted ones). Positions in `calls`."""

    calls: list[Call]
    payloads: list[JSONObject]
    eligible: list[int]
    matching: list[int]
    excluded: list[int]

    @property
    def matched(self) -> list[JSONObject]:
        return [self.payloads[i] for i in self.matching]


def observe(journal: Journal, write_key: str, expectation: Expectation) -> Observation:
    calls = journal.calls(CallQuery(write_key=write_key))
    payloads = [call.payload for call in calls]
    eligible: list[int] = []
    matching: list[int] = []
    excluded: list[int] = []
    for i, (call, payload) in enumerate(zip(calls, payloads, strict=True)):
        admitted = expectation.admits(call)
        if admitted:
            eligible.append(i)
        if expectation.matches(payload):
            (matching if admitted else excluded).append(i)
    return Observation(calls, payloads, eligible, matching, excluded)


def verdict(expectation: Expectation, seen: Observation) -> str | None:
    """None when the expectation holds for what was seen so far; else why not: `too_many` (final: more
    calls will not help), `too_few` (some, not enough), `no_calls` (none the expectation counts arrived),
    `no_match` (calls arrived, none matched)."""
    found = len(seen.matching)
    if expectation.count is not None and found > expectation.count:
        return "too_many"
    wanted = 1 if expectation.count is None else expectation.count
    if found >= wanted:
        return None
    if found:
        return "too_few"
    return "no_calls" if not seen.eligible else "no_match"


@dataclass(frozen=True, slots=True)
class OtherKey:
    """A write key other than the expected one that received calls, with the first event names."""

    write_key: str
    calls: int
    events: tuple[str, ...]

    def to_json(self) -> JSONObject:
        return {"writeKey": self.write_key, "calls": self.calls, "events": list(self.events)}


def last_call_id(journal: Journal) -> int:
    """The id of the newest call (0: none): other keys are looked for among the calls after it."""
    newest = journal.latest_calls(1)
    return newest[0].id if newest else 0


def other_keys(journal: Journal, write_key: str, since: int, *, most: int = MAX_OTHER_KEYS) -> list[OtherKey]:
    """The write keys, other than `write_key`, that received calls after call `since`: most calls first."""
    counts: Counter[str] = Counter()
    events: dict[str, list[str]] = {}
    for call in journal.calls(CallQuery(after=since, limit=OTHER_KEYS_SCAN)):
        if call.write_key == write_key:
            continue
        counts[call.write_key] += 1
        names = events.setdefault(call.write_key, [])
        label = _label(call)
        if len(names) < MAX_OTHER_KEY_EVENTS and label not in names:
            names.append(label)
    return [OtherKey(key, n, tuple(events[key])) for key, n in counts.most_common(most)]


def _label(call: Call) -> str:
    """`Order Completed` for a track call, `page Pricing` or `identify` for the others."""
    if call.type == "track" and call.event:
        return call.event
    return f"{call.type} {call.name}" if call.name else call.type


@dataclass(slots=True)
class Explanation:
    """Why an expectation failed; `message` is the text, `to_json` the structured parts (and the text)."""

    expectation: Expectation
    write_key: str
    waited: float
    verdict: str
    message: str = ""
    matched: list[JSONObject] = field(default_factory=list)
    received: int = 0
    closest: list[tuple[int, int, JSONObject, list[Difference]]] = field(default_factory=list)
    other_types: dict[str, int] = field(default_factory=dict)
    excluded: list[JSONObject] = field(default_factory=list)
    rejected_requests: list[JSONObject] = field(default_factory=list)
    other_keys: list[OtherKey] = field(default_factory=list)

    def to_json(self) -> JSONObject:
        return {
            "message": self.message,
            "verdict": self.verdict,
            "expected": self.expectation.describe(),
            "expectation": _jsonable(self.expectation.to_json()),
            "writeKey": self.write_key,
            "waited": self.waited,
            "matched": len(self.matched),
            "matching": self.matched,
            "received": self.received,
            "closest": [
                {
                    "index": index,
                    "callId": call_id,
                    "call": describe_call(index, payload),
                    "differences": [_difference_json(d) for d in diffs],
                }
                for index, call_id, payload, diffs in self.closest
            ],
            "otherTypes": self.other_types,
            ("refused" if self.expectation.accepted else "acceptedInstead"): self.excluded,
            "rejectedRequests": self.rejected_requests,
            "otherKeys": [key.to_json() for key in self.other_keys],
        }


def explain(
    expectation: Expectation,
    seen: Observation,
    *,
    waited: float,
    write_key: str,
    requests: Sequence[RequestRecord] = (),
    others: Sequence[OtherKey] = (),
) -> Explanation:
    """The explanation of a failed expectation (`verdict(expectation, seen)` is not None, or `count=0`
    saw a call): what was expected, what arrived, the near misses and how they differ."""
    kind = verdict(expectation, seen) or "too_few"
    found = [seen.payloads[i] for i in seen.matching]
    result = Explanation(expectation, write_key, waited, kind, matched=found, received=len(seen.eligible))
    result.excluded = _excluded(seen, requests)
    # The requests not accepted whose calls are not listed as excluded already (an unknown key, a bad body...).
    listed = {entry["requestId"] for entry in result.excluded}
    result.rejected_requests = [_request_json(r) for r in requests if not r.accepted and r.id not in listed]
    lines = [f"expected {expectation.describe()}"]
    if kind in ("too_many", "too_few"):
        head = (
            f"but {len(found)} matched:"
            if kind == "too_many"
            else f"but only {len(found)} matched after waiting {waited:g} s:"
        )
        lines.append(head)
        lines.extend(f"  {describe_call(i, seen.payloads[i])}" for i in seen.matching[:MAX_LISTED_CALLS])
        lines.extend(excluded_lines(expectation.accepted, result.excluded))
        result.message = "\n".join(lines)
        return result
    if kind == "no_calls":
        what = {True: "no accepted call", False: "no refused call", None: "no call"}[expectation.accepted]
        what = what if seen.calls else "no call"
        lines.append(f"but {what} arrived for write key {write_key!r} within {waited:g} s.")
        lines.extend(excluded_lines(expectation.accepted, result.excluded))
        lines.extend(_rejection_lines(result.rejected_requests))
        result.other_keys = list(others)
        if others:
            lines.append("Calls did arrive with other write keys:")
            lines.extend(
                f"  {key.write_key!r}: {key.calls} call{'s' if key.calls != 1 else ''} ({', '.join(key.events)})"
                for key in others
            )
        if not result.excluded:
            lines.append(
                "Check that the client was given this server's url and write key, and that it flushed "
                "(background consumers send in batches)."
            )
        result.message = "\n".join(lines)
        return result
    eligible = [seen.payloads[i] for i in seen.eligible]
    # Positions in the key's calls (as `mockpipe.payloads()` lists them), not among the eligible ones.
    near = [(seen.eligible[index], diffs) for index, diffs in near_misses(expectation, eligible)]
    total = len(eligible)
    lines.append(f"but none of the {total} call{'s' if total != 1 else ''} received in {waited:g} s matched.")
    if near:
        lines.append("Closest calls:")
        for index, diffs in near:
            lines.append(f"  {describe_call(index, seen.payloads[index])}")
            lines.extend(f"      {diff}" for diff in diffs)
        result.closest = [(index, seen.calls[index].id, seen.payloads[index], diffs) for index, diffs in near]
    else:
        verdict_word = "accepted " if expectation.accepted and result.excluded else ""
        lines.append(f"No {verdict_word}{expectation.type} call arrived.")
    others_by_type = Counter(p.get("type", "?") for p in eligible if p.get("type") != expectation.type)
    result.other_types = dict(sorted(others_by_type.items()))
    if others_by_type:
        lines.append("Other calls: " + ", ".join(f"{n} {t}" for t, n in result.other_types.items()) + ".")
    lines.extend(excluded_lines(expectation.accepted, result.excluded))
    lines.extend(_rejection_lines(result.rejected_requests))
    result.message = "\n".join(lines)
    return result


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


def _excluded(seen: Observation, requests: Sequence[RequestRecord]) -> list[JSONObject]:
    return verdict_entries(seen.calls, seen.excluded, seen.payloads, requests)


def verdict_entries(
    calls: Sequence[Call], positions: Sequence[int], payloads: Sequence[JSONObject], requests: Sequence[RequestRecord]
) -> list[JSONObject]:
    """The calls at `positions` of `calls` (a key's calls, oldest first), each with the server's verdict
    and the request that brought it: its status, reason, the rules its calls broke, strict or not."""
    by_id = {r.id: r for r in requests}
    rules_of: dict[int, list[str]] = {}
    for call in calls:  # the rules broken by the calls of each request (one bad item refuses the batch)
        codes = rules_of.setdefault(call.request_id, [])
        codes.extend(v.code for v in call.errors if v.code not in codes)
    found: list[JSONObject] = []
    for i in positions:
        call = calls[i]
        request = by_id.get(call.request_id)
        rules = list(rules_of.get(call.request_id, []))
        if request is not None:
            rules.extend(v.code for v in request.violations if v.is_error and v.code not in rules)
        found.append(
            {
                "index": i,
                "callId": call.id,
                "call": describe_call(i, payloads[i]),
                "accepted": call.accepted,
                "requestId": call.request_id,
                "method": request.method if request else None,
                "path": call.path,
                "status": request.status if request else None,
                "reason": request.reason if request else None,
                # A call is only kept refused when its request broke the spec under strict mode.
                "strict": bool(request and request.reason == SPEC_VIOLATION),
                "rules": rules,
                "callRules": [v.code for v in call.errors],
                "message": request.message if request else None,
            }
        )
    return found


def excluded_lines(accepted: bool | None, excluded: Sequence[JSONObject]) -> list[str]:
    """The lines telling of matching calls that carry the other verdict (refused, when `accepted` calls count)."""
    if not excluded:
        return []
    n = len(excluded)
    if accepted is False:
        return [
            f"{n} matching call{'s were' if n != 1 else ' was'} accepted (the expectation counts refused ones):"
        ] + [f"  {entry['call']} (request #{entry['requestId']})" for entry in excluded[:MAX_LISTED_CALLS]]
    lines = [
        f"{n} matching call{'s were' if n != 1 else ' was'} refused by the server "
        "(it never reached the service; pass accepted=None to count it):"
    ]
    for entry in excluded[:MAX_LISTED_CALLS]:
        mode = "under strict mode" if entry["strict"] else "not strict"
        rules = ", ".join(entry["rules"]) or "no rule"
        lines.append(
            f"  {entry['call']}: request #{entry['requestId']} {entry['method']} {entry['path']} -> "
            f"{entry['status']} {entry['reason']} ({mode}), broke {rules}"
        )
        if entry["callRules"]:
            lines.append(f"      this call broke {', '.join(entry['callRules'])}")
        else:
            lines.append("      this call was valid: another item of its batch was not, and the batch is refused whole")
    return lines


def _request_json(request: RequestRecord) -> JSONObject:
    return {
        "requestId": request.id,
        "method": request.method,
        "path": request.path,
        "status": request.status,
        "reason": request.reason,
        "message": request.message,
    }


def _rejection_lines(rejected: Sequence[JSONObject]) -> list[str]:
    if not rejected:
        return []
    lines = [f"{len(rejected)} request(s) with this write key were not accepted:"]
    lines.extend(
        f"  {r['method']} {r['path']} -> {r['status']} {r['reason']}: {r['message']}"
        for r in rejected[:MAX_NEAR_MISSES]
    )
    return lines


def _difference_json(diff: Difference) -> JSONObject:
    entry: JSONObject = {"path": diff.path, "expected": _jsonable(diff.expected)}
    if diff.actual is MISSING:
        entry["missing"] = True
    else:
        entry["actual"] = _jsonable(diff.actual)
    return entry


def _jsonable(value: Any) -> Any:
    """`value` when JSON can hold it; else its repr (a Python expectation may hold `unittest.mock.ANY`)."""
    try:
        orjson.dumps(value)
    except TypeError:
        return repr(value)
    return value
