"""Coverage: what a stream of calls exercised of a plan, mergeable across workers, in three renderings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockpipe.plans import Coverage, load_plan, loads_plan
from tests.plans.conftest import SHOP_PLANS

PLAN = loads_plan(
    """
mockpipe_plan: 1
name: Shop
track:
  Order Completed:
    properties:
      type: object
      properties:
        total: {type: number}
        currency: {enum: [USD, EUR, GBP]}
        address: {type: object, properties: {city: {type: string}}}
  Product Viewed: {}
  Signed Up: {}
page:
  Home: {}
identify:
  traits: {type: object, properties: {email: {}, plan: {enum: [free, pro]}}}
""",
    file="shop.yaml",
)

CALLS: list[tuple[str, Mapping[str, Any]]] = [
    ("track", {"event": "Order Completed", "properties": {"total": 3, "currency": "USD", "address": {"city": "Oslo"}}}),
    ("track", {"event": "Order Completed", "properties": {"currency": "EUR"}}),
    ("track", {"event": "Order Refunded", "properties": {}}),
    ("identify", {"traits": {"plan": "pro"}}),
    ("page", {"name": "Home"}),
    ("alias", {"userId": "a", "previousId": "b"}),
]


def test_counts_events_properties_and_enum_values() -> None:
    coverage = Coverage(PLAN).observe_all(CALLS)
    report = coverage.report()
    assert report["calls"] == 6
    assert report["events"] == {"planned": 4, "covered": 2}
    assert coverage.events_covered == 50.0
    assert report["events_never_sent"] == ["track:Product Viewed", "track:Signed Up"]
    assert report["unplanned"] == {"track:Order Refunded": 1}
    order = next(rule for rule in report["rules"] if rule["rule"] == "track:Order Completed")
    assert order["calls"] == 2
    assert order["properties"] == {"total": 1, "currency": 2, "address": 1, "address.city": 1}
    assert order["enum_values_never_sent"] == {"currency": ["GBP"]}
    identify = next(rule for rule in report["rules"] if rule["rule"] == "identify")
    assert identify["properties_never_sent"] == ["email"]
    assert identify["enum_values_never_sent"] == {"plan": ["free"]}


def test_merging_worker_counts_equals_observing_everything_in_one_process() -> None:
    whole = Coverage(PLAN).observe_all(CALLS)
    first = Coverage(PLAN).observe_all(CALLS[:3])
    second = Coverage(PLAN).observe_all(CALLS[3:])
    # as an xdist worker would send it: JSON through the wire
    merged = Coverage.from_dict(PLAN, json.loads(json.dumps(first.to_dict()))).merge(second)
    assert merged.to_dict() == whole.to_dict()
    assert merged.report() == whole.report()


def test_renderings() -> None:
    coverage = Coverage(PLAN).observe_all(CALLS)
    text = coverage.render("text")
    assert text.startswith("events covered: 50.0% (2 of 4)\n")
    assert "never sent: track:Product Viewed, track:Signed Up" in text
    assert 'track:Order Completed: currency values never sent: "GBP"' in text
    markdown = coverage.render("markdown")
    assert markdown.startswith("**Events covered: 50.0%** (2 of 4)")
    assert '| `identify` | 1 | `email` | `plan`: "free" |' in markdown
    assert json.loads(coverage.render("json"))["events_covered"] == 50.0


def test_a_plan_without_events_is_fully_covered_and_an_unknown_rendering_is_refused() -> None:
    coverage = Coverage(loads_plan("mockpipe_plan: 1\n"))
    assert coverage.events_covered == 100.0
    try:
        coverage.render("html")
    except ValueError as error:
        assert "html" in str(error)
    else:  # pragma: no cover
        raise AssertionError("html rendering accepted")


def test_every_shop_plan_gives_the_same_event_coverage() -> None:
    calls = [("track", {"event": "Order Completed", "properties": {"order_id": "1", "currency": "USD"}})]
    for path in SHOP_PLANS.values():
        coverage = Coverage(load_plan(path)).observe_all(calls)
        assert coverage.events_covered == 50.0
        order = next(rule for rule in coverage.report()["rules"] if rule["rule"] == "track:Order Completed")
        assert order["enum_values_never_sent"] == {"currency": ["EUR"]}


def test_counts_stay_right_past_the_shapes_kept_and_across_reads() -> None:
    from mockpipe.plans.coverage import _MAX_SHAPES

    plan = loads_plan(
        "mockpipe_plan: 1\ntrack:\n  A:\n    properties:\n      type: object\n      properties:\n"
        "        x: {type: string}\n        kind: {enum: [a, b]}\n        nested: {type: object, properties: {y: {}}}\n"
    )
    coverage = Coverage(plan)
    total = _MAX_SHAPES + 50
    for n in range(total):  # every call of a shape of its own
        coverage.observe("track", {"event": "A", "properties": {"x": "1", f"extra{n}": n, "kind": "a"}})
        if n == 10:
            assert coverage.report()["rules"][0]["properties"]["x"] == 11  # a read in between counts them once
    coverage.observe("track", {"event": "A", "properties": {"nested": {"y": 1}}})
    rule = coverage.report()["rules"][0]
    assert rule["calls"] == total + 1
    assert rule["properties"] == {"x": total, "kind": total, "nested": 1, "nested.y": 1}
    assert rule["enum_values_never_sent"] == {"kind": ["b"]}
    again = Coverage.from_dict(plan, coverage.to_dict())
    assert again.report() == coverage.report()
