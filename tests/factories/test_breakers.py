"""The breakers: every rule has one, each holds over many seeds, and the mistakes SDK users make."""

from __future__ import annotations

import orjson
import pytest

from mockpipe import factories
from mockpipe.factories import CHANNELS, InvalidCase, PayloadFactory
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.rules import RULES
from mockpipe.spec.validator import validate
from tests.factories.helpers import SEEDS, codes


def test_every_rule_has_an_invalid_case() -> None:
    params = factories.invalid_cases()
    assert [param.id for param in params] == list(RULES)
    cases = [param.values[0] for param in params]
    assert all(isinstance(case, InvalidCase) for case in cases)
    assert [case.rule for case in cases if isinstance(case, InvalidCase)] == list(RULES)


@pytest.mark.parametrize("code", list(RULES))
def test_invalid_cases_over_1000_seeds(factory: PayloadFactory, code: str) -> None:
    failures = []
    for seed in SEEDS:
        channel = CHANNELS[seed % len(CHANNELS)]
        case = factory.seed(seed).invalid_case(code, channel=channel)
        found = validate(case.payload, call_type=case.call_type, region=case.region, write_key=case.write_key)
        if codes(found) != [code]:
            failures.append((seed, channel, codes(found)))
    assert failures == [], f"{len(failures)} bad seeds, first: {failures[:3]}"


def test_invalid_payload_shapes_the_brief_names() -> None:
    assert len(orjson.dumps(factories.invalid("call.too_large"))) > MAX_CALL_BYTES
    mismatch = factories.invalid_case("type.mismatch")
    assert mismatch.payload["type"] != mismatch.call_type
    region = factories.invalid_case("writeKey.region")
    assert region.region == "us" and region.write_key and region.write_key.startswith("pk_eu_")
    assert region.payload["writeKey"] == region.write_key
    assert validate(region.payload) == []  # the rule needs the server's region to show
    for code in ("batch.type", "batch.empty", "batch.item.object", "batch.item.type"):
        case = factories.invalid_case(code)
        assert case.call_type == "batch" and "batch" in case.payload


def test_the_mistakes_sdk_users_make_are_labelled() -> None:
    found = {case.rule: case for case in factories.mistakes()}
    for code in (
        "identify.properties",
        "id.number",
        "timestamp.epoch",
        "channel.enum",
        "track.event.required",
        "writeKey.region",
    ):
        assert code in found, code
    for case in factories.mistakes():
        assert case.mistake and case.description and case.name
        assert codes(case.violations()) == [case.rule], case.name
    names = [param.id for param in factories.mistake_cases()]
    assert len(names) == len(set(names)) and "numeric-user-id" in names
    assert factories.default_factory().mistake("capitalised-type").rule == "batch.item.type"
