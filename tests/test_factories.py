"""The payload factories: valid payloads pass the validator, invalid ones break exactly their rule,
and both round-trip through a real emulator over HTTP."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from faker import Faker

from mockpipe import MockPipeServer, factories
from mockpipe.factories import CHANNELS, DROP, InvalidCase, PayloadFactory, PipelinesProvider
from mockpipe.rules import RULES, Violation
from mockpipe.types import CALL_TYPES
from mockpipe.validation import MAX_BATCH_BYTES, MAX_CALL_BYTES, SEMANTIC_EVENTS, parse_timestamp, validate

SEEDS = range(1000)
HTTP_SEEDS = range(25)


@pytest.fixture(scope="module")
def factory() -> PayloadFactory:
    return PayloadFactory()  # one Faker, re-seeded per seed: making a Faker costs ~25 ms


def _codes(found: list[Violation]) -> list[str]:
    return sorted(v.code for v in found)


# -- valid payloads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("call_type", CALL_TYPES)
def test_valid_payloads_pass_over_1000_seeds(factory: PayloadFactory, call_type: str, channel: str) -> None:
    failures = []
    for seed in SEEDS:
        payload = factory.seed(seed).call(call_type, channel=channel)  # type: ignore[arg-type]
        found = validate(payload)
        size = len(orjson.dumps(payload))
        if found or size > MAX_CALL_BYTES or payload["type"] != call_type:
            failures.append((seed, _codes(found), size))
    assert failures == [], f"{len(failures)} bad seeds, first: {failures[:3]}"


@pytest.mark.parametrize("channel", CHANNELS)
def test_valid_batches_pass_over_1000_seeds(factory: PayloadFactory, channel: str) -> None:
    failures = []
    for seed in SEEDS:
        envelope = factory.seed(seed).batch(channel=channel)  # type: ignore[arg-type]
        found = validate(envelope)
        sizes = [len(orjson.dumps(item)) for item in envelope["batch"]]
        if found or max(sizes) > MAX_CALL_BYTES or not 1 <= len(sizes) <= 10:
            failures.append((seed, _codes(found), sizes))
    assert failures == [], f"{len(failures)} bad seeds, first: {failures[:3]}"


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_large_batch_stays_within_the_request_limit(factory: PayloadFactory, channel: str) -> None:
    envelope = factory.seed(7).batch(size=100, channel=channel)  # type: ignore[arg-type]
    assert len(envelope["batch"]) == 100
    assert len(orjson.dumps(envelope)) < MAX_BATCH_BYTES
    assert validate(envelope) == []


def test_channels_shape_the_context_as_their_sdks_do(factory: PayloadFactory) -> None:
    for seed in range(200):
        browser = factory.seed(seed).track(channel="browser", semantic=False)
        context = browser["context"]
        assert {"page", "userAgent", "locale", "campaign", "library"} <= set(context)
        assert context["library"]["name"] == "analytics.js"
        assert browser["writeKey"] == factories.DEFAULT_WRITE_KEY and "sentAt" in browser
        assert context["page"]["url"].endswith(context["page"]["path"] + context["page"]["search"])
        assert bool(context["campaign"]) == ("utm_campaign=" in context["page"]["search"])

        server = factory.seed(seed).track(channel="server", semantic=False)
        assert server["context"]["library"]["name"] in ("analytics-python", "@customerio/cdp-analytics-node")
        assert not {"page", "app", "device"} & set(server["context"])

        mobile = factory.seed(seed).screen(channel="mobile")
        context = mobile["context"]
        assert {"app", "device", "os", "network", "screen", "library"} <= set(context)
        ios = context["device"]["type"] == "ios"
        assert (context["os"]["name"] == "iOS") == ios
        assert (context["device"]["manufacturer"] == "Apple") == ios
        assert context["library"]["name"] == ("analytics-swift" if ios else "analytics-kotlin")


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


def test_timestamps_come_from_the_base_time_not_the_clock() -> None:
    base = datetime(2030, 6, 1, tzinfo=UTC)
    shifted = PayloadFactory(seed=1, base_time=base)
    for _ in range(50):
        stamp = parse_timestamp(shifted.track()["timestamp"])
        assert stamp is not None and base - timedelta(days=8) < stamp <= base
    first = PayloadFactory(seed=1).track()
    again = PayloadFactory(seed=1, base_time=factories.BASE_TIME).track()
    assert first == again


# -- overrides ---------------------------------------------------------------------------------------


def test_overrides_are_deep_merged(factory: PayloadFactory) -> None:
    plain = factory.seed(11).track(event="Order Completed")
    merged = factory.seed(11).track(event="Order Completed", properties={"plan": "pro"}, userId="u1")
    assert merged["userId"] == "u1"
    assert merged["properties"] == {**plain["properties"], "plan": "pro"}
    assert merged["context"] == plain["context"]


def test_drop_removes_fields_at_any_depth(factory: PayloadFactory) -> None:
    payload = factory.seed(2).identify(channel="browser", anonymousId=DROP, context={"page": DROP},
                                       traits={"email": DROP, "tags": ["a", DROP, "b"]})
    assert "anonymousId" not in payload and "page" not in payload["context"]
    assert "email" not in payload["traits"] and payload["traits"]["tags"] == ["a", "b"]
    assert "userAgent" in payload["context"]


def test_overrides_are_copied_not_shared(factory: PayloadFactory) -> None:
    properties = {"plan": "pro", "tags": ["x"]}
    payload = factory.seed(1).track(properties=properties)
    payload["properties"]["tags"].append("y")
    assert properties == {"plan": "pro", "tags": ["x"]}


def test_unknown_channel_and_type_are_refused(factory: PayloadFactory) -> None:
    with pytest.raises(factories.FactoryError, match="no channel 'web'"):
        factory.track(channel="web")  # type: ignore[arg-type]
    with pytest.raises(factories.FactoryError, match="no call type"):
        factory.call("event")
    with pytest.raises(factories.FactoryError, match="batch types"):
        factory.batch(types=["track", "purchase"])


# -- reproducibility ---------------------------------------------------------------------------------


def test_same_seed_same_payloads_in_process() -> None:
    one, two = PayloadFactory(seed=5), PayloadFactory(seed=5)
    assert [one.call(t) for t in CALL_TYPES] == [two.call(t) for t in CALL_TYPES]
    assert one.batch() == two.batch()
    assert factories.track(seed=9) == factories.track(seed=9) == PayloadFactory(seed=9).track()
    assert PayloadFactory(seed=5).track() != PayloadFactory(seed=6).track()


def test_a_faker_of_your_own_is_used() -> None:
    fake = Faker()
    fake.seed_instance(4)
    first = PayloadFactory(fake).identify()
    fake.seed_instance(4)
    assert PayloadFactory(fake).identify() == first


# -- invalid payloads --------------------------------------------------------------------------------


def test_every_rule_has_an_invalid_case() -> None:
    params = factories.invalid_cases()
    assert [param.id for param in params] == list(RULES)
    cases = [param.values[0] for param in params]
    assert all(isinstance(case, InvalidCase) for case in cases)
    assert [case.rule for case in cases if isinstance(case, InvalidCase)] == list(RULES)


@pytest.mark.parametrize("case", factories.invalid_cases())
def test_invalid_case_breaks_exactly_its_rule(case: InvalidCase) -> None:
    found = validate(case.payload, call_type=case.call_type, region=case.region, write_key=case.write_key)
    assert _codes(found) == [case.rule]
    assert found[0].severity == RULES[case.rule].severity == case.severity
    assert case.endpoint == f"/v1/{case.call_type}"


@pytest.mark.parametrize("code", list(RULES))
def test_invalid_cases_over_1000_seeds(factory: PayloadFactory, code: str) -> None:
    failures = []
    for seed in SEEDS:
        channel = CHANNELS[seed % len(CHANNELS)]
        case = factory.seed(seed).invalid_case(code, channel=channel)
        found = validate(case.payload, call_type=case.call_type, region=case.region, write_key=case.write_key)
        if _codes(found) != [code]:
            failures.append((seed, channel, _codes(found)))
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


def test_invalid_overrides_apply_before_the_break() -> None:
    payload = factories.invalid("track.event.required", seed=1, userId="u-42", properties={"plan": "pro"})
    assert payload["userId"] == "u-42" and payload["properties"]["plan"] == "pro" and "event" not in payload


def test_overrides_that_undo_the_break_are_refused() -> None:
    with pytest.raises(factories.FactoryError, match=re.escape("should break only 'semantic.userId.required'")):
        factories.invalid("semantic.userId.required", event="Signed Up")
    with pytest.raises(KeyError, match="no rule"):
        factories.invalid("no.such.rule")


def test_the_mistakes_sdk_users_make_are_labelled() -> None:
    found = {case.rule: case for case in factories.mistakes()}
    for code in ("identify.properties", "id.number", "timestamp.epoch", "channel.enum", "track.event.required",
                 "writeKey.region"):
        assert code in found, code
    for case in factories.mistakes():
        assert case.mistake and case.description and case.name
        assert _codes(case.violations()) == [case.rule], case.name
    names = [param.id for param in factories.mistake_cases()]
    assert len(names) == len(set(names)) and "numeric-user-id" in names
    assert factories.default_factory().mistake("capitalised-type").rule == "batch.item.type"


# -- the Faker provider and Hypothesis strategies ---------------------------------------------------


def test_provider_adds_payload_methods_to_faker() -> None:
    fake = Faker()
    fake.add_provider(PipelinesProvider)
    fake.seed_instance(8)
    first = [fake.identify_payload(), fake.track_payload(channel="mobile"), fake.page_payload(),
             fake.screen_payload(), fake.group_payload(), fake.alias_payload(), fake.batch_payload(size=3)]
    for payload in first:
        assert validate(payload) == []
    case = fake.invalid_payload("id.number")
    assert isinstance(case["userId"], int)
    fake.seed_instance(8)
    assert fake.identify_payload() == first[0]


def test_provider_works_with_the_faker_fixture(faker: Faker) -> None:
    faker.add_provider(PipelinesProvider)
    payload = faker.track_payload(userId="u1")
    assert payload["userId"] == "u1" and validate(payload) == []


def test_hypothesis_strategies_make_valid_payloads() -> None:
    from hypothesis import HealthCheck, given, settings

    from mockpipe import strategies

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.payloads(), strategies.batches(max_size=4), strategies.invalid_cases())
    def check(payload: dict[str, Any], envelope: dict[str, Any], case: InvalidCase) -> None:
        assert validate(payload) == []
        assert validate(envelope) == []
        assert _codes(case.violations()) == [case.rule]

    check()


# -- over HTTP ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[MockPipeServer]:
    with MockPipeServer() as running:
        yield running


@pytest.fixture(scope="module")
def http(server: MockPipeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield client


def _post(http: httpx.Client, path: str, payload: Any, key: str) -> httpx.Response:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    response = http.post(path, content=orjson.dumps(payload),
                         headers={"Authorization": auth, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("channel", CHANNELS)
def test_valid_payloads_round_trip_over_http(server: MockPipeServer, http: httpx.Client, channel: str) -> None:
    key = f"wk_round_trip_{channel}"
    sent = []
    for seed in HTTP_SEEDS:
        factory = PayloadFactory(seed=seed, channel=channel)  # type: ignore[arg-type]
        for call_type in CALL_TYPES:
            payload = factory.call(call_type)
            _post(http, f"/v1/{call_type}", payload, key)
            sent.append(payload)
        envelope = factory.batch()
        _post(http, "/v1/batch", envelope, key)
        sent.extend(envelope["batch"])
    result = server.wait_for(len(sent), 10.0, write_key=key)  # timeout is positional-only
    assert not result.timed_out
    calls = result.calls
    assert len(calls) == len(sent)
    assert [(c.id, c.violations) for c in calls if not c.valid or c.violations] == []
    by_message = {c.message_id: c for c in calls}
    for payload in sent:
        call = by_message[payload["messageId"]]
        assert call.type == payload["type"]
        kept = call.payload
        assert {k: kept[k] for k in payload if k not in ("context", "sentAt")} == {
            k: v for k, v in payload.items() if k not in ("context", "sentAt")}


@pytest.mark.parametrize("case", [*factories.invalid_cases(seed=3), *factories.mistake_cases(seed=4)])
def test_invalid_cases_are_flagged_over_http(server: MockPipeServer, http: httpx.Client, case: InvalidCase) -> None:
    assert server.config.region == (case.region or server.config.region)
    key = case.write_key or "wk_invalid_cases"
    _post(http, case.endpoint, case.payload, key)
    request = server.requests()[-1]  # recorded before the answer was sent, and this test waits for it
    assert request.path == case.endpoint
    flagged = list(request.violations)
    for call_id in request.call_ids:
        call = server.journal.call(call_id)
        assert call is not None
        flagged.extend(call.violations)
    assert _codes(flagged) == [case.rule]
