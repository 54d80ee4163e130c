"""The Hypothesis strategies."""

from __future__ import annotations

from typing import Any

import pytest

from mockpipe.factories import InvalidCase
from mockpipe.spec.validator import validate
from tests.factories.helpers import codes


def test_hypothesis_strategies_make_valid_payloads() -> None:
    from hypothesis import HealthCheck, given, settings

    from mockpipe.factories import strategies

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.payloads(), strategies.batches(max_size=4), strategies.invalid_cases())
    def check(payload: dict[str, Any], envelope: dict[str, Any], case: InvalidCase) -> None:
        assert validate(payload) == []
        assert validate(envelope) == []
        assert codes(case.violations()) == [case.rule]

    check()
    with pytest.raises(ValueError, match="min_size"):
        strategies.batches(min_size=0)
