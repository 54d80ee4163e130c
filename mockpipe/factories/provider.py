"""The factories as a Faker provider: `fake.add_provider(PipelinesProvider)` gives `fake.track_payload()`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faker.providers import BaseProvider

from mockpipe.factories.payloads import PayloadFactory

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from mockpipe.factories.data import Channel
    from mockpipe.types import JSONObject


class PipelinesProvider(BaseProvider):
    """Faker provider: `fake.add_provider(PipelinesProvider)` gives `fake.track_payload()` and the like.

    The payloads come from the Faker's own random state, so `fake.seed_instance(n)` (or the `faker`
    fixture's seeding) makes them reproducible.
    """

    _factory: PayloadFactory | None = None

    def _payloads(self) -> PayloadFactory:
        if self._factory is None:
            # A Generator has the same data methods as a Faker; the factory only calls those.
            self._factory = PayloadFactory(self.generator)
        return self._factory

    def identify_payload(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        return self._payloads().identify(channel=channel, **overrides)

    def track_payload(
        self, *, channel: Channel | None = None, semantic: bool | None = None, **overrides: Any
    ) -> JSONObject:
        return self._payloads().track(channel=channel, semantic=semantic, **overrides)

    def page_payload(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        return self._payloads().page(channel=channel, **overrides)

    def screen_payload(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        return self._payloads().screen(channel=channel, **overrides)

    def group_payload(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        return self._payloads().group(channel=channel, **overrides)

    def alias_payload(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        return self._payloads().alias(channel=channel, **overrides)

    def batch_payload(
        self,
        calls: Iterable[Mapping[str, Any]] | None = None,
        *,
        size: int | None = None,
        types: Sequence[str] | None = None,
        channel: Channel | None = None,
        **overrides: Any,
    ) -> JSONObject:
        return self._payloads().batch(calls, size=size, types=types, channel=channel, **overrides)

    def invalid_payload(self, rule_code: str, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        return self._payloads().invalid(rule_code, channel=channel, **overrides)
