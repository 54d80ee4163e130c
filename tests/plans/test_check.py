"""Checking calls: each kind of rule broken gets exactly its code, at the right pointer, naming its rule."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from mockpipe.plans import PLAN_RULES, PlanChecker, PlanViolation, load_plan, loads_plan, plan_from_data
from mockpipe.spec.rules import RULES, Violation
from tests.plans.conftest import SHOP_PLANS

ORDER = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u1",
    "properties": {"order_id": "o-1", "total": 12.5, "currency": "EUR", "coupon": None},
    "context": {"library": {"name": "analytics-python", "version": "2.4.0"}, "ip": "127.0.0.1"},
}
IDENTIFY = {"type": "identify", "userId": "u1", "traits": {"email": "ada@example.com", "plan": "pro"}}
GROUP = {"type": "group", "userId": "u1", "groupId": "g1", "traits": {"name": "Acme"}}


def _with(call: dict[str, Any], section: str, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(call)
    for key, value in changes.items():
        if value is _DROP:
            changed[section].pop(key, None)
        else:
            changed[section][key] = value
    return changed


_DROP = object()

# (call type, call, code, path): one broken rule each; every shop plan must find exactly this.
BROKEN = [
    ("track", _with(ORDER, "properties", order_id=_DROP), "plan.property.required", "/properties/order_id"),
    ("track", _with(ORDER, "properties", order_id=None), "plan.property.required", "/properties/order_id"),
    ("track", _with(ORDER, "properties", total="12.5"), "plan.property.type", "/properties/total"),
    ("track", _with(ORDER, "properties", coupon=5), "plan.property.type", "/properties/coupon"),
    ("track", _with(ORDER, "properties", currency="GBP"), "plan.property.enum", "/properties/currency"),
    ("track", _with(ORDER, "properties", total=-1), "plan.property.invalid", "/properties/total"),
    ("track", _with(ORDER, "properties", gift=True), "plan.property.unplanned", "/properties/gift"),
    (
        "track",
        {"type": "track", "event": "Product Viewed", "userId": "u", "properties": {"sku": "nope"}},
        "plan.property.invalid",
        "/properties/sku",
    ),
    ("track", {**ORDER, "event": "Order Refunded"}, "plan.event.unplanned", "/event"),
    ("identify", _with(IDENTIFY, "traits", email=_DROP), "plan.property.required", "/traits/email"),
    ("identify", _with(IDENTIFY, "traits", email="not-an-email"), "plan.property.invalid", "/traits/email"),
    ("identify", _with(IDENTIFY, "traits", plan="gold"), "plan.property.enum", "/traits/plan"),
    ("group", _with(GROUP, "traits", name=7), "plan.property.type", "/traits/name"),
    ("group", _with(GROUP, "traits", name=_DROP), "plan.property.required", "/traits/name"),
]


@pytest.fixture(scope="module", params=sorted(SHOP_PLANS))
def checker(request: pytest.FixtureRequest) -> PlanChecker:
    return PlanChecker(load_plan(SHOP_PLANS[request.param]))


def test_valid_calls_break_no_rule(checker: PlanChecker) -> None:
    for call_type, call in (("track", ORDER), ("identify", IDENTIFY), ("group", GROUP)):
        assert checker.check(call_type, call) == []
        assert checker.is_clean(call_type, call)


@pytest.mark.parametrize(("call_type", "call", "code", "path"), BROKEN, ids=[f"{c}:{p}" for _, _, c, p in BROKEN])
def test_each_broken_rule_gets_exactly_its_code_at_its_pointer(
    checker: PlanChecker, call_type: str, call: dict[str, Any], code: str, path: str
) -> None:
    found = checker.check(call_type, call)
    assert [(v.code, v.path) for v in found] == [(code, path)], [v.to_dict() for v in found]
    violation = found[0]
    assert violation.severity == ("warning" if code in ("plan.event.unplanned", "plan.property.unplanned") else "error")
    plan = violation.plan
    assert plan["format"] == checker.plan.source.format
    assert plan["file"]
    if code != "plan.event.unplanned":
        assert plan["rule"] == ("track:" + call["event"] if call_type == "track" else call_type)
        assert plan["place"] is not None
    if code not in ("plan.event.unplanned", "plan.property.unplanned"):
        assert plan["schema_path"].startswith("/")
        assert _resolve(checker, plan) is not None
    assert violation.message


def _resolve(checker: PlanChecker, plan: Mapping[str, Any]) -> Any:
    """The schema node a violation's schema_path names, in the rule it names."""
    kind, _, name = plan["rule"].partition(":")
    rule = checker.plan.rule(kind, name or None)
    assert rule is not None
    node: Any = rule.schema
    for part in plan["schema_path"].split("/")[1:]:
        if isinstance(node, list):
            node = node[int(part)]
        elif part in node:
            node = node[part]
        else:  # a $ref'd or keyword-relative path: the keyword is named, that is enough
            return part
    return node


def test_the_mockpipe_plan_names_the_place_in_the_file() -> None:
    checker = PlanChecker(load_plan(SHOP_PLANS["mockpipe"]))
    found = checker.check("track", _with(ORDER, "properties", total="x"))
    assert found[0].plan == {
        "rule": "track:Order Completed",
        "kind": "track",
        "event": "Order Completed",
        "format": "mockpipe",
        "file": str(SHOP_PLANS["mockpipe"]),
        "place": "/track/Order Completed",
        "schema_path": "/properties/properties/properties/total/type",
    }


def test_several_violations_in_one_call() -> None:
    checker = PlanChecker(load_plan(SHOP_PLANS["mockpipe"]))
    call = _with(ORDER, "properties", order_id=_DROP, total=_DROP, currency="x", extra=1)
    found = {(v.code, v.path) for v in checker.check("track", call)}
    assert found == {
        ("plan.property.required", "/properties/order_id"),
        ("plan.property.required", "/properties/total"),
        ("plan.property.enum", "/properties/currency"),
        ("plan.property.unplanned", "/properties/extra"),
    }


def test_a_call_without_the_section_is_missing_it_whole() -> None:
    checker = PlanChecker(load_plan(SHOP_PLANS["mockpipe"]))
    found = checker.check("track", {"type": "track", "event": "Order Completed", "userId": "u"})
    assert [(v.code, v.path) for v in found] == [("plan.property.required", "/properties")]


PLAN = """
mockpipe_plan: 1
allow_unplanned_events: {events}
allow_unplanned_properties: {props}
track:
  Signed Up:
    properties:
      type: object
      properties: {{method: {{type: string}}, profile: {{type: object, properties: {{age: {{}}}}}}}}
  Closed:
    allow_unplanned: true
    properties: {{type: object, properties: {{reason: {{}}}}}}
  Locked:
    properties: {{type: object, properties: {{reason: {{}}}}, additionalProperties: false}}
page:
  Home: {{}}
screen:
  "*":
    properties: {{type: object, required: [title]}}
"""


def _checker(events: str = "true", props: str = "true", **severities: str) -> PlanChecker:
    text = PLAN.format(events=events, props=props)
    if severities:
        text += "severities:\n" + "".join(f"  plan.{k.replace('_', '.')}: {v}\n" for k, v in severities.items())
    return PlanChecker(loads_plan(text, file="p.yaml"))


def _codes(checker: PlanChecker, call_type: str, call: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(v.code, v.severity, v.path) for v in checker.check(call_type, call)]


def test_unplanned_events_are_warnings_unless_the_plan_forbids_them() -> None:
    call = {"event": "Logged Out", "properties": {}}
    assert _codes(_checker(), "track", call) == [("plan.event.unplanned", "warning", "/event")]
    assert _codes(_checker(events="false"), "track", call) == [("plan.event.unplanned", "error", "/event")]
    assert _codes(_checker(event_unplanned="off"), "track", call) == []


def test_unplanned_properties_warn_error_when_forbidden_and_nested() -> None:
    call = {"event": "Signed Up", "properties": {"method": "x", "ref": 1, "profile": {"age": 3, "shoe": 9}}}
    assert _codes(_checker(), "track", call) == [
        ("plan.property.unplanned", "warning", "/properties/ref"),
        ("plan.property.unplanned", "warning", "/properties/profile/shoe"),
    ]
    assert {s for _, s, _ in _codes(_checker(props="false"), "track", call)} == {"error"}
    assert _codes(_checker(props="false", property_unplanned="warning"), "track", call)[0][1] == "warning"
    # a rule's own flag beats the plan's; a schema's additionalProperties: false is an error
    assert _codes(_checker(props="false"), "track", {"event": "Closed", "properties": {"x": 1}}) == [
        ("plan.property.unplanned", "warning", "/properties/x")
    ]
    assert _codes(_checker(), "track", {"event": "Locked", "properties": {"x": 1}}) == [
        ("plan.property.unplanned", "error", "/properties/x")
    ]


def test_severities_override_each_code() -> None:
    call = {"event": "Signed Up", "properties": {"method": 5}}
    assert _codes(_checker(property_type="warning"), "track", call) == [
        ("plan.property.type", "warning", "/properties/method")
    ]
    assert _codes(_checker(property_type="off"), "track", call) == []
    # the fast lane may still send such a call to the full report, which finds nothing to say
    assert _checker(property_type="off").check("track", call) == []


def test_pages_by_name_and_screens_by_a_rule_for_every_screen() -> None:
    checker = _checker()
    assert _codes(checker, "page", {"name": "Home"}) == []
    assert _codes(checker, "page", {"name": "Pricing"}) == [("plan.event.unplanned", "warning", "/name")]
    assert _codes(checker, "page", {}) == []  # a page without a name is the spec's business
    assert _codes(checker, "screen", {"name": "Any", "properties": {}}) == [
        ("plan.property.required", "error", "/properties/title")
    ]
    assert _codes(checker, "alias", {"userId": "a", "previousId": "b"}) == []


def test_common_rules_apply_to_every_call() -> None:
    plan = plan_from_data(
        [{"key": None, "type": "COMMON", "version": 1, "jsonSchema": {"required": ["context"]}}], file="r.json"
    )
    checker = PlanChecker(plan)
    for call_type in ("track", "identify", "alias"):
        found = checker.check(call_type, {"event": "X"})
        assert [(v.code, v.path) for v in found] == [("plan.property.required", "/context")]
        assert found[0].plan["rule"] == "common"


def test_null_of_an_optional_property_is_a_type_error_not_a_missing_one() -> None:
    checker = _checker()
    assert _codes(checker, "track", {"event": "Signed Up", "properties": {"method": None}}) == [
        ("plan.property.type", "error", "/properties/method")
    ]


def test_plan_violations_become_spec_violations_and_move_under_a_batch_pointer() -> None:
    checker = _checker()
    found = checker.check("track", {"event": "Signed Up", "properties": {"method": 5}})[0]
    moved = found.at("/batch/3")
    assert moved.path == "/batch/3/properties/method" and moved.plan == found.plan
    plain = moved.to_violation()
    assert isinstance(plain, Violation) and plain.to_dict() == moved.to_dict()
    assert checker.violations("track", {"event": "Signed Up", "properties": {"method": 5}})[0] == found.to_violation()
    assert isinstance(found, PlanViolation) and found.is_error


def test_the_plan_codes_are_listed_beside_the_spec_rules() -> None:
    assert set(PLAN_RULES) == {
        "plan.event.unplanned",
        "plan.property.required",
        "plan.property.type",
        "plan.property.enum",
        "plan.property.unplanned",
        "plan.property.invalid",
    }
    assert not set(PLAN_RULES) & set(RULES)
    assert PLAN_RULES["plan.event.unplanned"].severity == "warning"
    assert PLAN_RULES["plan.property.unplanned"].severity == "warning"


# The fast lane (is_clean) is held to the full report: clean exactly when the report is empty.
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-2, 2, allow_nan=False)
    | st.sampled_from(["USD", "EUR", "x", "SKU-12", "ada@example.com", "o-1", "free"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(["city", "zip"]), inner, max_size=2),
    max_leaves=4,
)
_keys = st.sampled_from(["order_id", "total", "currency", "coupon", "sku", "email", "plan", "name", "gift"])
_calls = st.tuples(
    st.sampled_from(["track", "identify", "group", "page"]),
    st.sampled_from(["Order Completed", "Product Viewed", "Other"]),
    st.one_of(st.none(), st.dictionaries(_keys, _values, max_size=5)),
)
_FAST_CHECKERS = {name: PlanChecker(load_plan(path)) for name, path in SHOP_PLANS.items()}
_FAST_CHECKERS["flags"] = _checker(events="false", props="false")


@settings(max_examples=300, deadline=None)
@given(_calls, st.sampled_from(sorted(_FAST_CHECKERS)))
def test_the_fast_lane_agrees_with_the_full_report(generated: tuple[str, str, Any], name: str) -> None:
    call_type, event, section = generated
    call: dict[str, Any] = {"type": call_type, "event": event, "name": event}
    if section is not None:
        call["traits" if call_type in ("identify", "group") else "properties"] = section
    checker = _FAST_CHECKERS[name]
    assert checker.is_clean(call_type, call) == (checker.report(call_type, call) == [])


def test_fixture_paths_exist() -> None:
    assert all(Path(path).exists() for path in SHOP_PLANS.values())
