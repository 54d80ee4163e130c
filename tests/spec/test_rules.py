"""The rule catalogue: its integrity, and one violating and one clean case per rule."""

from __future__ import annotations

import string

import pytest

from mockpipe import REJECTIONS, RULES, UnknownRuleError, validate
from mockpipe.spec.rules import Violation, rule, violation
from tests.support.rule_cases import CASES, RuleCase

CASES_BY_CODE = {case.code: case for case in CASES}


def test_every_rule_has_a_case() -> None:
    assert set(CASES_BY_CODE) == set(RULES)
    assert len(CASES_BY_CODE) == len(CASES), "one case per rule"


def test_catalogue_is_consistent() -> None:
    for code, found in RULES.items():
        assert found.code == code
        assert found.severity in ("error", "warning")
        assert found.summary and found.template and found.applies_to
        assert all(c in string.ascii_letters + "._" for c in code), code
    for code, rejection in REJECTIONS.items():
        assert rejection.code == code and 400 <= rejection.status < 500


def test_unknown_code_is_refused() -> None:
    with pytest.raises(UnknownRuleError, match=r"no rule 'track\.nope'"):
        rule("track.nope")
    with pytest.raises(KeyError):
        violation("track.nope", "/event")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_violating_case_is_flagged(case: RuleCase) -> None:
    found = validate(case.bad, call_type=case.endpoint, region="us", write_key=case.write_key)
    flagged = [v for v in found if v.code == case.code]
    assert flagged, f"{case.code} not flagged; got {[v.code for v in found]}"
    for v in flagged:
        assert v.severity == RULES[case.code].severity
        assert v.path == "" or v.path.startswith("/")
        assert v.message and "{" not in v.message


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_clean_case_passes(case: RuleCase) -> None:
    found = validate(case.good, call_type=case.endpoint, region="us", write_key=case.good_write_key)
    assert [v.code for v in found] == []


def test_a_violation_carries_the_plan_rule_it_came_from_into_its_dict_its_pointer_and_its_text() -> None:
    from mockpipe.journal.schema import _dump_violations, _load_violations

    plan = {
        "rule": "track:Signed Up",
        "kind": "track",
        "event": "Signed Up",
        "format": "mockpipe",
        "file": "plan.yaml",
        "place": "/track/Signed Up",
        "schema_path": "/properties/properties/required",
    }
    found = Violation("plan.property.required", "error", "/properties/method", "method is required", plan)
    assert found.to_dict()["plan"] == plan
    assert "plan" not in Violation("id.type", "error", "/userId", "m").to_dict()
    moved = found.at("/batch/0")
    assert moved.path == "/batch/0/properties/method" and moved.plan == plan
    assert moved.describe() == (
        "plan.property.required at /batch/0/properties/method: method is required "
        "[plan: track:Signed Up in plan.yaml#/track/Signed Up (mockpipe), schema /properties/properties/required]"
    )
    # The journal's store keeps the plan field, and still reads rows written without it.
    plain = Violation("id.type", "error", "/userId", "m")
    loaded = _load_violations(_dump_violations((found, plain)))
    assert [v.to_dict() for v in loaded] == [found.to_dict(), plain.to_dict()]
