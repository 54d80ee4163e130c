"""The call builders: events with matching properties, semantic events, groups, companies."""

from __future__ import annotations

import pytest

from mockpipe.factories import PayloadFactory
from mockpipe.spec.fields import SEMANTIC_EVENTS
from mockpipe.spec.validator import validate


def test_events_come_with_matching_properties(factory: PayloadFactory) -> None:
    order = factory.seed(3).track(event="Order Completed")
    properties = order["properties"]
    assert order["event"] == "Order Completed"
    assert properties["products"] and properties["currency"]
    revenue = sum(p["price"] * p["quantity"] for p in properties["products"])
    assert properties["revenue"] == pytest.approx(revenue, abs=1)
    video = factory.seed(3).track(event="Video Playback Started")["properties"]
    assert {"session_id", "position", "total_length", "video_player"} <= set(video)
    assert factory.seed(3).track(event="Signed Up")["properties"]["plan"]


def test_every_semantic_event_is_made_and_valid(factory: PayloadFactory) -> None:
    seen = set()
    for seed in range(300):
        payload = factory.seed(seed).track(semantic=True)
        assert payload["event"] in SEMANTIC_EVENTS
        assert validate(payload) == [], (seed, payload["event"])
        seen.add(payload["event"])
    assert seen == set(SEMANTIC_EVENTS)
    assert all(factory.seed(s).track(semantic=False)["event"] not in SEMANTIC_EVENTS for s in range(300))


def test_groups_carry_object_type_and_relationship(factory: PayloadFactory) -> None:
    for seed in range(100):
        payload = factory.seed(seed).group()
        traits = payload["traits"]
        type_id = payload.get("objectTypeId", traits.get("object_type_id"))
        assert isinstance(type_id, str) and type_id.isdigit()
        assert isinstance(traits["relationshipAttributes"], dict) and traits["name"]


def test_some_identify_calls_carry_a_company(factory: PayloadFactory) -> None:
    companies = []
    for seed in range(300):
        payload = factory.seed(seed).identify()
        company = payload["traits"].get("company")
        if company is not None:
            companies.append(company)
            assert isinstance(company["name"], str) and company["name"]
            assert set(company) <= {"name", "id", "industry", "employee_count", "plan"}
            assert isinstance(company.get("employee_count", 1), int)
    assert 60 <= len(companies) <= 240
    assert any("industry" in c for c in companies) and any("employee_count" in c for c in companies)
