"""The rules asked one by one, without the fast lane: each catalogue case is flagged, each clean one passes.

`tests/spec/test_rules.py` runs the same cases through `validate`, where the fast lane answers for clean
calls; here `every_rule` must find every violation on its own and flag nothing in the clean cases.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mockpipe.spec.checks import every_rule
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.rules import RULES
from tests.support.rule_cases import CASES, RuleCase

# Found by cutting the request (mockpipe.spec.validator), not by the rules of a call.
ENVELOPE_CODES = frozenset(("batch.type", "batch.empty", "batch.item.object", "batch.item.type", "type.mismatch"))
CALL_CASES = [case for case in CASES if case.code not in ENVELOPE_CODES]


def rule_codes(call_type: str, call: dict[str, Any], write_key: str) -> list[str]:
    size = len(orjson.dumps(call))
    found = every_rule(call_type, call, size=size, max_call_bytes=MAX_CALL_BYTES, region="us", write_key=write_key)
    return [v.code for v in found]


def test_the_call_cases_are_all_the_rules_but_the_envelopes() -> None:
    assert {case.code for case in CALL_CASES} == set(RULES) - ENVELOPE_CODES
    assert all(case.endpoint != "batch" for case in CALL_CASES)


@pytest.mark.parametrize("case", CALL_CASES, ids=lambda case: case.code)
def test_every_rule_flags_the_violating_case(case: RuleCase) -> None:
    assert case.code in rule_codes(case.endpoint, case.bad, case.write_key)


@pytest.mark.parametrize("case", CALL_CASES, ids=lambda case: case.code)
def test_every_rule_passes_the_clean_case(case: RuleCase) -> None:
    assert rule_codes(case.endpoint, case.good, case.good_write_key) == []


def test_findings_point_inside_the_call() -> None:
    found = every_rule(
        "track",
        {"userId": "u1", "event": "E", "context": {"page": {"keywords": ["a", 2]}}, "timestamp": 1704164645},
        size=None,
        max_call_bytes=MAX_CALL_BYTES,
        region=None,
        write_key=None,
    )
    assert [(v.code, v.path) for v in found] == [
        ("timestamp.epoch", "/timestamp"),
        ("context.page.keywords.type", "/context/page/keywords/1"),
    ]
    assert "2024-01-02T03:04:05.000Z" in found[0].message  # seconds, written back as ISO-8601


def test_an_epoch_number_out_of_range_still_gets_a_suggestion() -> None:
    (found,) = every_rule(
        "track",
        {"userId": "u1", "event": "E", "timestamp": 1e300},
        size=None,
        max_call_bytes=MAX_CALL_BYTES,
        region=None,
        write_key=None,
    )
    assert found.code == "timestamp.epoch" and "2024-01-02T03:04:05.000Z" in found.message
