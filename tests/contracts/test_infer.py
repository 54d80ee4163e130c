"""Inference of a contract from calls: shapes, requiredness, formats, merging, the file it writes."""

from __future__ import annotations

import random

from mockpipe.contracts import Contract
from mockpipe.contracts.shape import Shape, string_format
from mockpipe.plans import PlanChecker, loads_plan

ORDER: dict[str, object] = {
    "type": "track",
    "event": "Order Completed",
    "properties": {
        "order_id": "o-1",
        "revenue": 10,
        "placed_at": "2026-01-02T03:04:05.000Z",
        "products": [{"sku": "a", "qty": 1}, {"sku": "b"}],
        "shipping": {"city": "Oslo"},
    },
}


def calls() -> list[dict[str, object]]:
    return [
        ORDER,
        {
            "type": "track",
            "event": "Order Completed",
            "properties": {"order_id": "o-2", "revenue": 9.5, "coupon": "X", "placed_at": "2026-01-02T03:04:05Z"},
        },
        {"type": "identify", "userId": "u1", "traits": {"email": "jane@example.com", "id": None}},
        {"type": "identify", "userId": "u2", "traits": {"email": "joe@example.org", "id": 3}},
        {"type": "page", "name": "Home", "properties": {"url": "https://example.com/"}},
        {"type": "page", "properties": {"url": "https://example.com/x"}},
        {"type": "screen", "name": "Cart"},
        {"type": "group", "groupId": "g", "traits": {"id": "6f1c2a8e-0a0b-4c5d-8e9f-0123456789ab"}},
        {"type": "alias", "userId": "u", "previousId": "p"},
        {"type": "track", "event": "", "properties": {}},
    ]


def test_each_event_gets_its_lines_with_types_requiredness_and_formats() -> None:
    contract = Contract().observe_all(calls())
    lines = {path: spec for path, (spec, _) in contract.lines(("track", "Order Completed")).items()}
    assert lines == {
        "coupon": "string, optional",
        "order_id": "string",
        "placed_at": "string, date-time",
        "products": "array, optional",
        "products[]": "object",
        "products[].qty": "integer, optional",
        "products[].sku": "string",
        "revenue": "number",  # integers and floats seen: number
        "shipping": "object, optional",
        "shipping.city": "string",
    }
    identify = {path: spec for path, (spec, _) in contract.lines(("identify", None)).items()}
    assert identify == {"email": "string, email", "id": "integer|null"}
    assert contract.lines(("page", "Home")) == {"url": ("string, uri", 1)}
    assert ("page", None) in contract.events and ("screen", "Cart") in contract.events
    assert contract.lines(("group", None))["id"][0] == "string, uuid"
    assert contract.events[("track", "Order Completed")].calls == 2
    assert len(contract) == 8  # alias and the nameless track are no events of a contract


def test_formats_are_recognised_only_when_every_string_has_one() -> None:
    assert string_format("2026-02-30T00:00:00Z") is None  # no such day
    assert string_format("mailto:someone@example.com") is None
    assert string_format("not an email@") is None
    shape = Shape()
    for value in ("a@example.com", "b@example.com", "someone"):
        shape.observe(value)
    assert shape.format() is None


def test_merged_partial_observations_give_exactly_the_serial_contract() -> None:
    everything = calls() * 3
    serial = Contract().observe_all(everything, "t").render(sources=True)
    for seed in range(5):
        shuffled = list(everything)
        random.Random(seed).shuffle(shuffled)
        cut = random.Random(seed).randrange(len(shuffled))
        parts = [Contract().observe_all(shuffled[:cut], "t"), Contract().observe_all(shuffled[cut:], "t")]
        merged = Contract()
        for part in reversed(parts) if seed % 2 else parts:
            merged.merge(Contract.from_data(part.to_data()))  # through data, as xdist carries them
        assert merged.render(sources=True) == serial
        assert merged.to_data() == Contract().observe_all(everything, "t").to_data()


def test_the_file_is_sorted_one_line_per_fact_without_counts_and_enforceable() -> None:
    contract = Contract().observe_all(calls())
    text = contract.render()
    assert text.splitlines()[1] == "mockpipe_plan: 1"
    assert "  Order Completed:\n    fields:\n      coupon: string, optional\n      order_id: string\n" in text
    assert "sources" not in text and "2" not in text.replace("2026", "")
    plan = loads_plan(text)
    checker = PlanChecker(plan)
    assert all(checker.check(str(call["type"]), call) == [] for call in calls())
    broken = {"type": "track", "event": "Order Completed", "properties": {"order_id": 7, "revenue": 1}}
    codes = sorted(v.code for v in checker.check("track", broken))
    assert codes == ["plan.property.required", "plan.property.type"]


def test_sources_go_into_the_file_only_when_asked() -> None:
    contract = Contract()
    contract.observe(ORDER, "tests/test_a.py::test_one")
    contract.observe(ORDER, "tests/test_b.py::test_two")
    text = contract.render(sources=True)
    assert "    sources:\n    - tests/test_a.py::test_one\n    - tests/test_b.py::test_two\n" in text
    assert loads_plan(text).rules[0].schema == loads_plan(contract.render()).rules[0].schema


def test_the_schema_is_what_the_lines_say_and_odd_names_fall_back_to_json_schema() -> None:
    from mockpipe.plans.fields import schema_from_fields

    contract = Contract().observe_all(calls())
    for key, event in contract.events.items():
        lines = {path: spec for path, (spec, _) in contract.lines(key).items()}
        assert event.section.schema() == schema_from_fields(lines)
    odd = {"type": "track", "event": "Odd", "properties": {"": 1, "a.b": {"[x]": True}}}
    text = Contract().observe_all([odd, ORDER]).render()
    assert "  Odd:\n    properties:\n" in text and "  Order Completed:\n    fields:\n" in text
    plan = loads_plan(text)
    assert PlanChecker(plan).check("track", odd) == []
    assert loads_plan(
        Contract().observe_all([{"type": "track", "event": "E", "properties": {"a.b": {"[x]": 1}}}]).render()
    ).rules[0].schema["properties"]["properties"]["properties"]["a.b"]["properties"]["[x]"] == {"type": "integer"}
