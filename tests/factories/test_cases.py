"""Invalid cases: each breaks exactly its rule, offline and through a real emulator over HTTP."""

from __future__ import annotations

import re

import httpx
import pytest

from mockpipe import MockPipeServer, factories
from mockpipe.factories import InvalidCase
from mockpipe.spec.rules import RULES
from mockpipe.spec.validator import validate
from tests.factories.helpers import codes, post


@pytest.mark.parametrize("case", factories.invalid_cases())
def test_invalid_case_breaks_exactly_its_rule(case: InvalidCase) -> None:
    found = validate(case.payload, call_type=case.call_type, region=case.region, write_key=case.write_key)
    assert codes(found) == [case.rule]
    assert found[0].severity == RULES[case.rule].severity == case.severity
    assert case.endpoint == f"/v1/{case.call_type}"


def test_invalid_overrides_apply_before_the_break() -> None:
    payload = factories.invalid("track.event.required", seed=1, userId="u-42", properties={"plan": "pro"})
    assert payload["userId"] == "u-42" and payload["properties"]["plan"] == "pro" and "event" not in payload


def test_overrides_that_undo_the_break_are_refused() -> None:
    with pytest.raises(factories.FactoryError, match=re.escape("should break only 'semantic.userId.required'")):
        factories.invalid("semantic.userId.required", event="Signed Up")
    with pytest.raises(KeyError, match="no rule"):
        factories.invalid("no.such.rule")


@pytest.mark.parametrize("case", [*factories.invalid_cases(seed=3), *factories.mistake_cases(seed=4)])
def test_invalid_cases_are_flagged_over_http(server: MockPipeServer, http: httpx.Client, case: InvalidCase) -> None:
    assert server.config.region == (case.region or server.config.region)
    key = case.write_key or "wk_invalid_cases"
    post(http, case.endpoint, case.payload, key)
    request = server.requests()[-1]  # recorded before the answer was sent, and this test waits for it
    assert request.path == case.endpoint
    flagged = list(request.violations)
    for call_id in request.call_ids:
        call = server.journal.call(call_id)
        assert call is not None
        flagged.extend(call.violations)
    assert codes(flagged) == [case.rule]
