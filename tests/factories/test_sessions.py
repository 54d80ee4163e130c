"""Sessions: each channel's context as its SDK writes it, messageIds, and people of every locale."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from faker import Faker

from mockpipe import factories
from mockpipe.factories import CHANNELS, PayloadFactory, PipelinesProvider
from mockpipe.spec.validator import validate
from mockpipe.types import CALL_TYPES


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
