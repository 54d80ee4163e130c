"""Fixture plans: the same shop plan written in every importable format."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHOP_PLANS = {
    "mockpipe": FIXTURES / "mockpipe" / "plan.yaml",
    "segment": FIXTURES / "segment" / "plan.json",
    "segment-rules": FIXTURES / "segment" / "rules.json",
    "rudderstack-v0": FIXTURES / "rudderstack" / "v0",
    "rudderstack-v1": FIXTURES / "rudderstack" / "v1",
    "jsonschema": FIXTURES / "jsonschema",
}


@pytest.fixture(params=sorted(SHOP_PLANS))
def shop_plan_path(request: pytest.FixtureRequest) -> Path:
    return SHOP_PLANS[request.param]
