"""The rule catalogue: its integrity, and one violating and one clean case per rule."""

from __future__ import annotations

import string

import pytest

from mockpipe import REJECTIONS, RULES, UnknownRuleError, validate
from mockpipe.spec.rules import rule, violation
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
