"""The payload factories: valid payloads pass the validator, invalid ones break exactly their rule,
and both round-trip through a real emulator over HTTP."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import pytest
from faker import Faker

from mockpipe import MockPipeServer, factories
from mockpipe.factories import CHANNELS, DROP, InvalidCase, PayloadFactory, PipelinesProvider
from mockpipe.spec.rules import RULES, Violation
from mockpipe.spec.validation import MAX_BATCH_BYTES, MAX_CALL_BYTES, SEMANTIC_EVENTS, parse_timestamp, validate
from mockpipe.types import CALL_TYPES

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
    payload = factory.seed(2).identify(
        channel="browser", anonymousId=DROP, context={"page": DROP}, traits={"email": DROP, "tags": ["a", DROP, "b"]}
    )
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
        assert _codes(case.violations()) == [case.rule], case.name
    names = [param.id for param in factories.mistake_cases()]
    assert len(names) == len(set(names)) and "numeric-user-id" in names
    assert factories.default_factory().mistake("capitalised-type").rule == "batch.item.type"


# -- the Faker provider and Hypothesis strategies ---------------------------------------------------


def test_provider_adds_payload_methods_to_faker() -> None:
    fake = Faker()
    fake.add_provider(PipelinesProvider)
    fake.seed_instance(8)
    first = [
        fake.identify_payload(),
        fake.track_payload(channel="mobile"),
        fake.page_payload(),
        fake.screen_payload(),
        fake.group_payload(),
        fake.alias_payload(),
        fake.batch_payload(size=3),
    ]
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

    from mockpipe.factories import strategies

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.payloads(), strategies.batches(max_size=4), strategies.invalid_cases())
    def check(payload: dict[str, Any], envelope: dict[str, Any], case: InvalidCase) -> None:
        assert validate(payload) == []
        assert validate(envelope) == []
        assert _codes(case.violations()) == [case.rule]

    check()
    with pytest.raises(ValueError, match="min_size"):
        strategies.batches(min_size=0)


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
    response = http.post(
        path, content=orjson.dumps(payload), headers={"Authorization": auth, "Content-Type": "application/json"}
    )
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
            k: v for k, v in payload.items() if k not in ("context", "sentAt")
        }


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


# -- messageIds, locales, sizes, companies (acceptance review) ---------------------------------------


def test_same_seed_calls_of_different_types_get_different_message_ids(factory: PayloadFactory) -> None:
    # Made from the same seed, calls of different types (or channels) used to draw the same messageId
    # whenever their random streams lined up, and the emulator took the second for a resend.
    seen: dict[str, tuple[int, str, str]] = {}
    clashes = []
    for seed in range(300):
        for channel in CHANNELS:
            for call_type in CALL_TYPES:
                message_id = factory.seed(seed).call(call_type, channel=channel)["messageId"]
                if message_id in seen:
                    clashes.append((seen[message_id], (seed, channel, call_type)))
                seen[message_id] = (seed, channel, call_type)
    assert clashes == []
    assert (
        factories.identify(seed=3, channel="browser")["messageId"]
        != factories.track(seed=3, channel="browser")["messageId"]
    )


def test_message_ids_stay_reproducible_and_keep_their_sdk_shape(factory: PayloadFactory) -> None:
    shapes = {
        "analytics.js": r"ajs-next-[0-9a-f]{32}",
        "@customerio/cdp-analytics-node": r"node-next-\d{13}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
        r"[0-9a-f]{12}",
        "analytics-python": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "analytics-kotlin": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "analytics-swift": r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}",
    }
    for seed in range(60):
        for call_type in CALL_TYPES:
            payload = factory.seed(seed).call(call_type)
            assert re.fullmatch(shapes[payload["context"]["library"]["name"]], payload["messageId"]), payload
            assert factory.seed(seed).call(call_type) == payload
    items = factory.seed(4).batch(size=30, types=["track"])["batch"]
    assert len({item["messageId"] for item in items}) == 30


def test_overrides_give_another_message_id_unless_they_set_one(factory: PayloadFactory) -> None:
    plain = factory.seed(5).track(event="Signed Up")
    other = factory.seed(5).track(event="Signed Up", userId="u-other")
    assert other["messageId"] != plain["messageId"]
    assert factory.seed(5).track(event="Signed Up", userId="u-other") == other
    assert factory.seed(5).track(event="Signed Up", messageId="m-1")["messageId"] == "m-1"
    assert factory.seed(5).track(semantic=True)["messageId"] != factory.seed(5).track(semantic=False)["messageId"]


def test_same_seed_calls_of_every_type_all_reach_the_journal(server: MockPipeServer, http: httpx.Client) -> None:
    key = "wk_same_seed_types"
    sent: list[dict[str, Any]] = []
    for seed in range(30):
        for channel in CHANNELS:
            made = [getattr(factories, call_type)(seed=seed, channel=channel) for call_type in CALL_TYPES]
            made.append(factories.track(seed=seed, channel=channel, userId=f"u-{seed}"))  # same seed, overridden
            made.extend(factories.batch(seed=seed, channel=channel, size=3)["batch"])
            for payload in made:
                _post(http, f"/v1/{payload['type']}", payload, key)
            sent.extend(made)
    result = server.wait_for(len(sent), 10.0, write_key=key)
    assert not result.timed_out
    found = server.calls(write_key=key)  # resends of a messageId are hidden: every call must be its own
    assert len(found) == len(sent)
    assert sorted(c.message_id for c in found) == sorted(p["messageId"] for p in sent)
    assert server.calls(write_key=key, duplicates=True) == found


LOCALES = ("ja_JP", "ru_RU", "zh_CN", "el_GR", "ko_KR", "hi_IN", "ar_AA", "he_IL", "th_TH", "pl_PL")
EMAIL = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
URL = re.compile(r"https://(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s]*)?")


def _urls(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and value.startswith("https://"):
        yield value


@pytest.mark.parametrize("locale", LOCALES)
def test_non_latin_locales_make_valid_emails_and_urls(locale: str) -> None:
    fake = Faker(locale)
    fake.add_provider(PipelinesProvider)
    fake.seed_instance(1)
    emails = 0
    for _ in range(40):
        for channel in CHANNELS:
            made = [
                fake.identify_payload(channel=channel),
                fake.track_payload(channel=channel),
                fake.page_payload(channel=channel),
                fake.screen_payload(channel=channel),
                fake.group_payload(channel=channel),
                fake.alias_payload(channel=channel),
            ]
            for payload in made:
                assert validate(payload) == [], payload
                email = payload.get("traits", {}).get("email")
                if email is not None:
                    emails += 1
                    assert EMAIL.fullmatch(email), email
                for url in _urls(payload):
                    assert URL.fullmatch(url), url
                app = payload["context"].get("app")
                if app is not None:
                    assert re.fullmatch(r"[A-Z][a-z0-9]+.*", app["name"]) and ".." not in app["namespace"], app
                search = payload.get("properties", {}).get("query")
                assert search is None or search, payload
    assert emails >= 120


def test_batch_size_must_be_at_least_one(factory: PayloadFactory) -> None:
    for size in (0, -1):
        with pytest.raises(ValueError, match="at least one call"):
            factory.batch(size=size)
        with pytest.raises(ValueError, match="at least one call"):
            factories.batch(size=size)
    assert factory.batch([])["batch"] == []  # calls given as they are: an empty list is asked for


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_batch_over_the_request_limit_is_refused(factory: PayloadFactory, channel: str) -> None:
    with pytest.raises(factories.FactoryError, match=r"over the 512,000 bytes \(500 KiB\)") as raised:
        factory.seed(1).batch(size=2500, channel=channel)  # type: ignore[arg-type]
    assert "2500 calls" in str(raised.value)
    fits = factory.seed(1).batch(size=400, channel=channel)  # type: ignore[arg-type]
    assert len(orjson.dumps(fits)) <= MAX_BATCH_BYTES and validate(fits) == []
    items = [factory.track(channel=channel) for _ in range(1000)]  # type: ignore[arg-type]
    assert len(orjson.dumps(factory.batch(items))) > MAX_BATCH_BYTES  # on purpose: the calls are yours


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


@pytest.mark.parametrize("base", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)])
def test_a_base_time_too_close_to_the_calendar_ends_is_refused(base: datetime) -> None:
    with pytest.raises(factories.FactoryError, match="base time"):
        PayloadFactory(seed=1, base_time=base)


def test_a_base_time_with_an_offset_gives_utc_timestamps() -> None:
    paris = datetime(2030, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    payload = PayloadFactory(seed=1, channel="browser", base_time=paris).track()
    assert payload["timestamp"].endswith("Z")
    assert payload == PayloadFactory(seed=1, channel="browser", base_time=datetime(2030, 6, 1, 10, tzinfo=UTC)).track()
