"""The one matcher of expectations on calls, shared by the Python assertions and `POST /mockpipe/expect`.

An `Expectation` is a call type plus a subset of fields (camelCase, as on the wire), an optional exact
count and a filter on the server's verdict (`accepted`: by default only the calls the server accepted
count; a call it refused never reached the service). `differences` says where a payload departs from
the fields. No web code and no journal here: only payloads and records are looked at.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from mockpipe.journal.queries import CallQuery
from mockpipe.types import CALL_TYPE_SET

if TYPE_CHECKING:
    from mockpipe.journal.records import Call
    from mockpipe.types import JSONObject

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
    `accepted=True` (the default) counts only the calls the server accepted, `False` only those it
    refused (a strict server's 400), `None` either.
    """

    type: str
    fields: JSONObject = field(default_factory=dict)
    count: int | None = None
    accepted: bool | None = True

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 0:
            raise ValueError("count must not be negative")

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Expectation:
        """An expectation from its JSON form (`type`, `fields`, `count`, `accepted`, as `POST
        /mockpipe/expect` takes it); ValueError names the field that is wrong."""
        kind = body.get("type")
        if not isinstance(kind, str) or kind not in CALL_TYPE_SET:
            raise ValueError(f"type: must be one of {', '.join(sorted(CALL_TYPE_SET))}, got {show(kind)}")
        fields = body.get("fields", {})
        if fields is None:
            fields = {}
        if not isinstance(fields, dict):
            raise ValueError(f"fields: must be an object of the payload fields to match, got {show(fields)}")
        count = body.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise ValueError(f"count: must be an integer >= 0 (or null: at least one), got {show(count)}")
        accepted = body.get("accepted", True)
        if accepted is not None and not isinstance(accepted, bool):
            raise ValueError(f"accepted: must be true, false or null (either), got {show(accepted)}")
        return cls(type=kind, fields=fields, count=count, accepted=accepted)

    def to_json(self) -> JSONObject:
        return {"type": self.type, "fields": self.fields, "count": self.count, "accepted": self.accepted}

    def query(self, write_key: str) -> CallQuery:
        """The journal query narrowing the candidates: the type, the verdict, and the indexed fields given as text."""
        indexed = {
            attribute: self.fields[key] for key, attribute in _INDEXED.items() if isinstance(self.fields.get(key), str)
        }
        return CallQuery(write_key=write_key, type=self.type, accepted=self.accepted, **indexed)

    def differences(self, payload: JSONObject) -> list[Difference]:
        """How a payload departs from the type and fields (the verdict is `admits`' business)."""
        if payload.get("type") != self.type:
            return [Difference("type", self.type, payload.get("type", MISSING))]
        return differences(self.fields, payload)

    def matches(self, payload: JSONObject) -> bool:
        return not self.differences(payload)

    def admits(self, call: Call) -> bool:
        """Whether the server's verdict on `call` is one this expectation counts."""
        return self.accepted is None or call.accepted == self.accepted

    def describe(self) -> str:
        """`a track call with event='Signed Up', userId='u1', properties containing {'plan': 'pro'}`."""
        kind = {True: self.type, False: f"refused {self.type}", None: self.type}[self.accepted]
        if self.count is None:
            head = f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} call"
        elif self.count == 0:
            head = f"no {kind} call"
        else:
            head = f"exactly {self.count} {kind} call{'s' if self.count != 1 else ''}"
        if self.accepted is None:
            head += " (accepted or refused)"
        ordered = [key for key in _LEADING if key in self.fields] + [key for key in self.fields if key not in _LEADING]
        parts = [
            f"{key} containing {show(self.fields[key])}"
            if isinstance(self.fields[key], Mapping)
            else f"{key}={show(self.fields[key])}"
            for key in ordered
        ]
        return head + (" with " + ", ".join(parts) if parts else "")


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
