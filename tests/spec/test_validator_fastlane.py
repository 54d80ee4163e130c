"""The fast lane: it never proves clean a call that a rule flags, and it does prove ordinary calls clean.

Each test runs the lane and every rule (`mockpipe.spec.checks.every_rule`) on the same calls and fails
when the lane passes a call the rules flag: the rule catalogue's cases, the factories' broken cases, every
field the rules know set to odd values, and Hypothesis mutations of generated calls.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from mockpipe.factories.payloads import PayloadFactory
from mockpipe.spec import validator
from mockpipe.spec.checks import every_rule
from mockpipe.spec.decoding import ENDPOINT_TYPES
from mockpipe.spec.fields import CONTEXT_OBJECT_STRINGS, CONTEXT_STRINGS, KNOWN_KEYS, NETWORK_BOOLS
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.validator import proves_clean, split_request
from tests.support.rule_cases import CASES
from tests.support.sdk_captures import captured_requests


def _lane_and_rules(
    call_type: str,
    body: dict[str, Any],
    *,
    region: str | None = None,
    write_key: str | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
) -> list[tuple[bool, list[str]]]:
    """For each call of a request: (the fast lane proves it clean, the codes every rule finds)."""
    encoded = orjson.dumps(body)
    items, _ = split_request(
        call_type,
        orjson.loads(encoded),
        body_size=None if call_type == "batch" else len(encoded),
        max_call_bytes=max_call_bytes,
    )
    found = []
    for item in items:
        options: dict[str, Any] = {
            "size": item.size,
            "max_call_bytes": max_call_bytes,
            "region": region,
            "write_key": write_key,
        }
        found.append(
            (
                proves_clean(item.type, item.payload, **options),
                [v.code for v in every_rule(item.type, item.payload, **options)],
            )
        )
    return found


def _assert_lane_is_sound(call_type: str, body: dict[str, Any], **options: Any) -> None:
    for clean, codes in _lane_and_rules(call_type, body, **options):
        assert not (clean and codes), f"the fast lane passed a call flagged {codes}: {body}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_the_fast_lane_passes_no_call_of_the_rule_catalogue_cases(case: Any) -> None:
    for body, key in ((case.bad, case.write_key), (case.good, case.good_write_key)):
        for region in (None, "us", "eu"):
            _assert_lane_is_sound(case.endpoint, body, region=region, write_key=key, **case.extra)


def test_the_fast_lane_passes_no_broken_factory_case() -> None:
    factory = PayloadFactory()
    for seed in range(3):
        for channel in ("browser", "server", "mobile"):
            for case in factory.seed(seed).invalid_cases(channel=channel) + factory.mistakes(channel=channel):
                _assert_lane_is_sound(case.call_type, case.payload, region=case.region, write_key=case.write_key)


def test_the_fast_lane_proves_ordinary_calls_clean() -> None:
    """What SDKs send most goes through the lane (else it would speed nothing up)."""
    factory = PayloadFactory()
    for seed in range(20):
        for channel in ("browser", "server", "mobile"):
            for call in (
                factory.seed(seed).track(channel=channel, semantic=False),
                factory.identify(channel=channel),
                factory.page(channel=channel),
                factory.screen(channel=channel),
            ):
                assert _lane_and_rules(call["type"], call, region="us", write_key="wk") == [(True, [])], call
    for sdk, path, body in captured_requests():
        call_type = ENDPOINT_TYPES[path.rsplit("/", 1)[-1]]
        _assert_lane_is_sound(call_type, body, region="us")
        if call_type in ("track", "page", "screen"):
            assert _lane_and_rules(call_type, body, region="us") == [(True, [])], f"{sdk} {path}"


def test_the_fast_lane_passes_no_wrong_value_at_any_field_the_rules_know() -> None:
    """Every field the rules look at, set to each odd value in turn, in a call that is clean otherwise."""
    sections = {
        section: [*names, "type", "keywords", *NETWORK_BOOLS, "extra"]
        for section, names in CONTEXT_OBJECT_STRINGS.items()
    }
    paths: list[tuple[str, ...]] = [(key,) for key in [*KNOWN_KEYS, "user_id", "Event", "custom"]]
    paths += [("context", key) for key in [*CONTEXT_STRINGS, *sections, "active", "channel", "traits", "campaign"]]
    paths += [("context", section, name) for section, names in sections.items() for name in names]
    paths += [
        ("context", "campaign", "source"),
        ("integrations", "All"),
        ("traits", "email"),
        ("traits", "createdAt"),
        ("properties", "objectId"),
        ("context", "traits", "email"),
    ]
    checked = 0
    for call_type, base in (
        ("track", {"userId": "u1", "event": "E"}),
        ("identify", {"anonymousId": "a1"}),
        ("page", {"userId": "u1", "name": "Home"}),
        ("screen", {"userId": "u1", "name": "Home"}),
    ):
        for path in paths:
            for value in _ODD_VALUES:
                call: dict[str, Any] = copy.deepcopy(base)
                target = call
                for key in path[:-1]:
                    target = target.setdefault(key, {})
                target[path[-1]] = copy.deepcopy(value)
                _assert_lane_is_sound(call_type, call, region="us", write_key="wk")
                checked += 1
    assert checked > 9_000


_ODD_VALUES = [
    None,
    "",
    "x",
    "browser",
    "android",
    "2024-01-02T03:04:05.678Z",
    "yesterday",
    0,
    42,
    1.5,
    True,
    False,
    [],
    ["a"],
    [1],
    {},
    {"a": 1},
    {"email": 7},
    {"type": "tv"},
    "Device Deleted",
    "Object Deleted",
    "12",
    1700000000000,
]
_ODD_KEYS = [
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "event",
    "name",
    "category",
    "messageId",
    "writeKey",
    "properties",
    "traits",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "channel",
    "integrations",
    "context",
    "type",
    "objectTypeId",
    "user_id",
    "Event",
    "message-id",
    "custom",
]
_ODD_CONTEXT_KEYS = [
    "active",
    "channel",
    "ip",
    "locale",
    "userAgent",
    "timezone",
    "traits",
    "page",
    "app",
    "device",
    "os",
    "library",
    "network",
    "campaign",
    "other",
]
_ODD_SECTION_KEYS = [
    "name",
    "version",
    "type",
    "token",
    "keywords",
    "wifi",
    "bluetooth",
    "path",
    "id",
    "email",
    "createdAt",
    "objectId",
    "extra",
]


def test_the_fast_lane_never_passes_what_a_rule_flags_in_mutated_calls() -> None:
    from hypothesis import HealthCheck, given, settings, strategies as st

    from mockpipe.factories import strategies

    where = st.one_of(
        st.tuples(st.sampled_from(_ODD_KEYS)),
        st.tuples(st.just("context"), st.sampled_from(_ODD_CONTEXT_KEYS)),
        st.tuples(
            st.sampled_from(["context", "traits", "properties", "integrations"]),
            st.sampled_from(_ODD_CONTEXT_KEYS + _ODD_SECTION_KEYS),
        ),
        st.tuples(st.just("context"), st.sampled_from(_ODD_CONTEXT_KEYS), st.sampled_from(_ODD_SECTION_KEYS)),
    )
    mutation = st.tuples(where, st.sampled_from(_ODD_VALUES))

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        strategies.payloads(),
        st.lists(mutation, min_size=1, max_size=3),
        st.sampled_from([None, "us", "eu"]),
        st.sampled_from([None, "wk", "pk_eu_1"]),
        st.booleans(),
    )
    def check(
        payload: dict[str, Any],
        mutations: list[tuple[tuple[str, ...], Any]],
        region: str | None,
        write_key: str | None,
        batched: bool,
    ) -> None:
        call_type = payload["type"]  # the endpoint it is sent to, whatever the mutations do to its type
        for path, value in mutations:
            target = payload
            for key in path[:-1]:
                if not isinstance(target.get(key), dict):
                    target[key] = {}
                target = target[key]
            target[path[-1]] = copy.deepcopy(value)  # sampled values are shared between examples
        if batched:
            _assert_lane_is_sound("batch", {"batch": [payload]}, region=region, write_key=write_key)
        else:
            _assert_lane_is_sound(call_type, payload, region=region, write_key=write_key, max_call_bytes=600)

    check()


def test_a_remembered_key_region_still_keeps_a_key_of_another_region_off_the_lane() -> None:
    call = {"userId": "u1", "event": "E"}
    for _ in range(2):  # the second round answers from the memo of key regions
        assert proves_clean("track", call, region="eu", write_key="pk_eu_remembered")
        assert not proves_clean("track", call, region="us", write_key="pk_eu_remembered")
        assert proves_clean("track", call, region="us", write_key="wk_no_region")


def test_the_memo_of_key_regions_is_bounded_and_right_after_it_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validator, "_KEY_REGIONS", {})
    monkeypatch.setattr(validator, "_KEY_REGIONS_KEPT", 3)
    call = {"userId": "u1", "event": "E"}
    for n in range(10):
        assert not proves_clean("track", call, region="us", write_key=f"pk_eu_{n}")
        assert proves_clean("track", call, region="eu", write_key=f"pk_eu_{n}")
    assert 0 < len(validator._KEY_REGIONS) <= 3
