"""The Faker provider."""

from __future__ import annotations

from faker import Faker

from mockpipe.factories import PipelinesProvider
from mockpipe.spec.validator import validate


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
