"""What the benchmark sends: every request valid; fresh traffic with a messageId per call, resends the same
body every time."""

from __future__ import annotations

import orjson

from mockpipe.bench import scenarios
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.spec.validator import validate


def test_every_request_of_a_scenario_is_valid_with_its_own_message_ids() -> None:
    for scenario in (s for s in SCENARIOS.values() if not s.resend):
        first, second = scenario.body(b"1" * scenarios.ID_WIDTH), scenario.body(b"2" * scenarios.ID_WIDTH)
        assert len(first) == len(second) == scenario.size
        endpoint = scenario.path.rsplit("/", 1)[1]
        payload = orjson.loads(first)
        assert validate(payload, call_type=endpoint) == []
        items = payload["batch"] if endpoint == "batch" else [payload]
        ids = [item["messageId"] for item in items] + [
            item["messageId"]
            for item in (orjson.loads(second)["batch"] if endpoint == "batch" else [orjson.loads(second)])
        ]
        assert len(ids) == len(set(ids)) == 2 * scenario.events
    assert 550 <= SCENARIOS["single"].size <= 650
    assert 35_000 <= SCENARIOS["batch"].size <= 45_000


def test_resend_scenarios_send_one_body_the_size_of_their_fresh_one() -> None:
    assert [s.name for s in SCENARIOS.values() if s.resend] == ["single-resend", "batch-resend"]
    for scenario in (s for s in SCENARIOS.values() if s.resend):
        fresh = SCENARIOS[scenario.base]
        first, second = scenario.body(b"1" * scenarios.ID_WIDTH), scenario.body(b"2" * scenarios.ID_WIDTH)
        assert first == second == scenario.template and b"".join(scenario.parts()) == first
        assert (scenario.size, scenario.path, scenario.events) == (len(first), fresh.path, fresh.events)
        assert scenario.size == fresh.size
        assert first == fresh.body(scenarios.RESEND_ID)
        payload = orjson.loads(first)
        assert validate(payload, call_type=scenario.path.rsplit("/", 1)[1]) == []
        assert (scenario.kind, fresh.kind) == ("resends", "fresh ids")
