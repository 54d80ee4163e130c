"""The plan writers: each format's output reads back through its importer; what it cannot say is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockpipe.contracts import Contract, diff_plans
from mockpipe.plans import load_plan, loads_plan
from mockpipe.plans.writers import write_plan

CALLS = [
    {"type": "track", "event": "Order Completed", "properties": {"id": "o1", "at": "2026-01-01T00:00:00Z", "n": None}},
    {"type": "track", "event": "Order Completed", "properties": {"id": "o2", "at": "2026-01-01T00:00:00Z", "n": 2}},
    {"type": "page", "name": "Home", "properties": {"url": "https://example.com/"}},
    {"type": "screen", "name": "Cart", "properties": {"items": 2}},
    {"type": "identify", "traits": {"email": "a@example.com", "address": {"city": "Oslo"}}},
    {"type": "group", "traits": {"tags": ["a", "b"]}},
]


@pytest.mark.parametrize(
    ("fmt", "importer", "left_out"),
    [
        ("mockpipe", "mockpipe", []),
        ("segment", "segment-rules", []),
        ("rudderstack", "rudderstack", ["page:Home", "screen:Cart"]),
        ("jsonschema", "jsonschema", ["page:Home", "screen:Cart"]),
    ],
)
def test_each_format_reads_back_as_the_same_events(
    fmt: str, importer: str, left_out: list[str], tmp_path: Path
) -> None:
    plan = Contract().observe_all(CALLS).to_plan()
    written, omitted = write_plan(plan, fmt)
    assert [note.split(": ", 1)[0] for note in omitted] == left_out
    if isinstance(written, dict):
        for name, text in written.items():
            (tmp_path / name).write_text(text)
        back = load_plan(tmp_path)
    else:
        back = loads_plan(written)
    assert back.source.format == importer
    changes = diff_plans(plan, back).changes
    assert [(c.code, c.subject) for c in changes] == [("event.removed", name) for name in left_out]
    assert write_plan(plan, fmt)[0] == written  # stable: the same bytes again


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="no plan writer"):
        write_plan(Contract().to_plan(), "avo")
