"""Golden recordings: the calls each SDK sent for the scenario (`recordings/<sdk>.jsonl`, one
`Call.to_dict()` per line), written by `scripts/record_sdks.py`, and how calls are compared with them.

Values that belong to one run or one machine are left out of the comparison: ids, messageIds,
timestamps, library and runtime versions, the browser's user agent, locale and time zone. The ports
of the servers a recording was made with are written as `<api-port>` and `<page-port>`, and the write
key is `golden-<sdk>`, so that a live run compares once its own ports and key are put the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from mockpipe.relay.recording import call_line
from tests.support.sdk_scenario import CALL_TYPES, SDKS

if TYPE_CHECKING:
    from mockpipe import Call, Journal

VOLATILE = "<volatile>"
# Fields of `Call.to_dict()` that change from one run to the next.
VOLATILE_FIELDS = ("id", "requestId", "receivedAt", "messageId", "duplicateOf")
# Paths into the payload: per run (ids, clocks) or per machine (versions, the browser's settings).
VOLATILE_PAYLOAD = (
    ("messageId",),
    ("timestamp",),
    ("originalTimestamp",),
    ("sentAt",),
    ("receivedAt",),
    ("context", "library", "version"),
    ("context", "userAgent"),
    ("context", "userAgentData"),
    ("context", "locale"),
    ("context", "timezone"),
    ("_metadata", "nodeVersion"),
)


def golden_key(name: str) -> str:
    """The write key a recording is made with (and replayed with)."""
    return f"golden-{name}"


def machine_values(
    *, write_key: str | None = None, name: str | None = None, api_port: int | None = None, page_port: int | None = None
) -> dict[str, str]:
    """Replacements that make one run's calls comparable: its write key, and the servers' ports (as
    they appear in the browser's page URL, plain and percent-encoded)."""
    values: dict[str, str] = {}
    if write_key is not None and name is not None and write_key != golden_key(name):
        values[write_key] = golden_key(name)
    for host, port, placeholder in (("localhost", api_port, "<api-port>"), ("127.0.0.1", page_port, "<page-port>")):
        if port is not None:
            values[f"{host}:{port}"] = f"{host}:{placeholder}"
            values[quote(f"{host}:{port}", safe="")] = quote(f"{host}:", safe="") + placeholder
    return values


def scrub(value: Any, replacements: dict[str, str]) -> Any:
    """A copy of `value` with every replacement made in every string it holds (keys included)."""
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [scrub(item, replacements) for item in value]
    if isinstance(value, dict):
        return {scrub(key, replacements): scrub(item, replacements) for key, item in value.items()}
    return value


def comparable(
    call: dict[str, Any], replacements: dict[str, str] | None = None, *, also: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A `Call.to_dict()` with the volatile values masked (and the fields in `also`), after `replacements`."""
    masked: dict[str, Any] = scrub(call, replacements or {})
    for name in (*VOLATILE_FIELDS, *also):
        if name in masked:
            masked[name] = VOLATILE
    payload = masked.get("payload")
    for path in VOLATILE_PAYLOAD:
        parent = payload
        for step in path[:-1]:
            parent = parent.get(step) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            parent[path[-1]] = VOLATILE
    return masked


def in_scenario_order(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls in the scenario's order (the browsers send theirs concurrently, in any order)."""
    return sorted(calls, key=lambda call: CALL_TYPES.index(call["type"]))


def recording_lines(calls: list[Call], journal: Journal, replacements: dict[str, str]) -> bytes:
    """The recording of one run: its calls in scenario order, machine values replaced."""
    lines = [orjson.loads(call_line(call, attempts=journal.attempts(call.id))) for call in calls]
    return b"".join(orjson.dumps(scrub(line, replacements)) + b"\n" for line in in_scenario_order(lines))


def read_recording(name: str) -> list[dict[str, Any]]:
    """The golden calls of SDK `name`; fails naming the script when the recording is missing."""
    path = SDKS[name].recording
    assert path.exists(), f"{path} is missing: run `python scripts/record_sdks.py {name}`"
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def assert_matches_recording(name: str, calls: list[Call], replacements: dict[str, str]) -> None:
    """Assert that a live run of the scenario sent what the recording holds, volatile values aside."""
    live = in_scenario_order([comparable(call.to_dict(), replacements) for call in calls])
    golden = [comparable(call) for call in read_recording(name)]
    assert live == golden, (
        f"{name} no longer sends what recordings/{name}.jsonl holds; if the change is "
        f"expected, run `python scripts/record_sdks.py {name}`"
    )
