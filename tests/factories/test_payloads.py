"""The payload factory: valid calls and batches over many seeds, reproducibility, base times, and the
round trip through a real emulator over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import pytest
from faker import Faker

from mockpipe import MockPipeServer, factories
from mockpipe.factories import CHANNELS, PayloadFactory
from mockpipe.spec.limits import MAX_BATCH_BYTES, MAX_CALL_BYTES
from mockpipe.spec.times import parse_timestamp
from mockpipe.spec.validator import validate
from mockpipe.types import CALL_TYPES
from tests.factories.helpers import HTTP_SEEDS, SEEDS, codes, post


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("call_type", CALL_TYPES)
def test_valid_payloads_pass_over_1000_seeds(factory: PayloadFactory, call_type: str, channel: str) -> None:
    failures = []
    for seed in SEEDS:
        payload = factory.seed(seed).call(call_type, channel=channel)  # type: ignore[arg-type]
        found = validate(payload)
        size = len(orjson.dumps(payload))
        if found or size > MAX_CALL_BYTES or payload["type"] != call_type:
            failures.append((seed, codes(found), size))
    assert failures == [], f"{len(failures)} bad seeds, first: {failures[:3]}"


@pytest.mark.parametrize("channel", CHANNELS)
def test_valid_batches_pass_over_1000_seeds(factory: PayloadFactory, channel: str) -> None:
    failures = []
    for seed in SEEDS:
        envelope = factory.seed(seed).batch(channel=channel)  # type: ignore[arg-type]
        found = validate(envelope)
        sizes = [len(orjson.dumps(item)) for item in envelope["batch"]]
        if found or max(sizes) > MAX_CALL_BYTES or not 1 <= len(sizes) <= 10:
            failures.append((seed, codes(found), sizes))
    assert failures == [], f"{len(failures)} bad seeds, first: {failures[:3]}"


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_large_batch_stays_within_the_request_limit(factory: PayloadFactory, channel: str) -> None:
    envelope = factory.seed(7).batch(size=100, channel=channel)  # type: ignore[arg-type]
    assert len(envelope["batch"]) == 100
    assert len(orjson.dumps(envelope)) < MAX_BATCH_BYTES
    assert validate(envelope) == []


def test_timestamps_come_from_the_base_time_not_the_clock() -> None:
    base = datetime(2030, 6, 1, tzinfo=UTC)
    shifted = PayloadFactory(seed=1, base_time=base)
    for _ in range(50):
        stamp = parse_timestamp(shifted.track()["timestamp"])
        assert stamp is not None and base - timedelta(days=8) < stamp <= base
    first = PayloadFactory(seed=1).track()
    again = PayloadFactory(seed=1, base_time=factories.BASE_TIME).track()
    assert first == again


def test_unknown_channel_and_type_are_refused(factory: PayloadFactory) -> None:
    with pytest.raises(factories.FactoryError, match="no channel 'web'"):
        factory.track(channel="web")  # type: ignore[arg-type]
    with pytest.raises(factories.FactoryError, match="no call type"):
        factory.call("event")
    with pytest.raises(factories.FactoryError, match="batch types"):
        factory.batch(types=["track", "purchase"])


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


@pytest.mark.parametrize("channel", CHANNELS)
def test_valid_payloads_round_trip_over_http(server: MockPipeServer, http: httpx.Client, channel: str) -> None:
    key = f"wk_round_trip_{channel}"
    sent = []
    for seed in HTTP_SEEDS:
        factory = PayloadFactory(seed=seed, channel=channel)  # type: ignore[arg-type]
        for call_type in CALL_TYPES:
            payload = factory.call(call_type)
            post(http, f"/v1/{call_type}", payload, key)
            sent.append(payload)
        envelope = factory.batch()
        post(http, "/v1/batch", envelope, key)
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


def test_same_seed_calls_of_every_type_all_reach_the_journal(server: MockPipeServer, http: httpx.Client) -> None:
    key = "wk_same_seed_types"
    sent: list[dict[str, Any]] = []
    for seed in range(30):
        for channel in CHANNELS:
            made = [getattr(factories, call_type)(seed=seed, channel=channel) for call_type in CALL_TYPES]
            made.append(factories.track(seed=seed, channel=channel, userId=f"u-{seed}"))  # same seed, overridden
            made.extend(factories.batch(seed=seed, channel=channel, size=3)["batch"])
            for payload in made:
                post(http, f"/v1/{payload['type']}", payload, key)
            sent.extend(made)
    result = server.wait_for(len(sent), 10.0, write_key=key)
    assert not result.timed_out
    found = server.calls(write_key=key)  # resends of a messageId are hidden: every call must be its own
    assert len(found) == len(sent)
    assert sorted(c.message_id for c in found) == sorted(p["messageId"] for p in sent)
    assert server.calls(write_key=key, duplicates=True) == found


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


@pytest.mark.parametrize("base", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)])
def test_a_base_time_too_close_to_the_calendar_ends_is_refused(base: datetime) -> None:
    with pytest.raises(factories.FactoryError, match="base time"):
        PayloadFactory(seed=1, base_time=base)


def test_a_base_time_with_an_offset_gives_utc_timestamps() -> None:
    paris = datetime(2030, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    payload = PayloadFactory(seed=1, channel="browser", base_time=paris).track()
    assert payload["timestamp"].endswith("Z")
    assert payload == PayloadFactory(seed=1, channel="browser", base_time=datetime(2030, 6, 1, 10, tzinfo=UTC)).track()
