"""`PayloadFactory`: realistic Data Pipelines payloads from Faker, valid calls of every type, batches, and
invalid ones per rule (the cases are in `cases` and `breakers`, sessions in `sessions`, bodies in `calls`).

    from mockpipe import factories

    factories.track(seed=1)                                  # a seeded track call, server-shaped
    factories.page(channel="browser", userId="u1")           # overrides are deep-merged
    factories.identify(context={"library": factories.DROP})  # DROP removes a field
    factories.batch(size=5, channel="mobile")                # one person's session, in an envelope
    factories.invalid("track.event.required")                # breaks exactly that rule
    factories.invalid_case("writeKey.region")                # ... with the endpoint, key and region to use

The same seed gives the same payloads in any process and at any time: timestamps count back from
`BASE_TIME` (2024-01-02T03:04:05Z), not from the clock. `PayloadFactory` holds the knobs (a Faker of
your own, another base time, a write key); the module functions (`shortcuts`) share one factory, seeded
with 0 when first used, so they are reproducible per process but not thread-safe.
`PipelinesProvider` (`provider`) plugs the same payloads into a Faker: `fake.add_provider(PipelinesProvider)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from faker import Faker

from mockpipe.factories import breakers
from mockpipe.factories.calls import CallBuilder
from mockpipe.factories.cases import FactoryError, InvalidCase, build as build_case
from mockpipe.factories.data import BASE_TIME, Channel
from mockpipe.factories.overrides import copy_json, merge_overrides
from mockpipe.factories.sessions import Session, check_channel
from mockpipe.spec.limits import MAX_BATCH_BYTES
from mockpipe.types import CALL_TYPES, JSONObject

DEFAULT_SEED = 0  # as faker's pytest plugin: unseeded use is still reproducible within a process
DEFAULT_WRITE_KEY = "mockpipe_test_key"  # carried in browser and mobile bodies; names no region

# What a session of each channel sends most, for batches: (type, weight).
_SESSION_MIX: dict[Channel, tuple[tuple[str, int], ...]] = {
    "browser": (("page", 40), ("track", 35), ("identify", 15), ("group", 5), ("alias", 5)),
    "mobile": (("screen", 40), ("track", 40), ("identify", 14), ("group", 4), ("alias", 2)),
    "server": (("track", 50), ("identify", 30), ("group", 15), ("alias", 5)),
}
# How far timestamps reach from the base time: back to a group's creation (3,000 days) and a person's
# signup (1,500), forward through a session of the largest batch that fits a request.
_REACH_BACK = timedelta(days=3001)
_REACH_FORWARD = timedelta(days=30)


class PayloadFactory(CallBuilder):
    """Builds payloads from one Faker; seed it (or the Faker) for reproducible output.

    :param faker: a Faker of your own (the pytest `faker` fixture works); by default a new en_US one.
    :param seed: seeds the Faker; a new Faker is seeded with `DEFAULT_SEED` when no seed is given.
    :param channel: "browser", "server" or "mobile" for every call; by default each call picks one.
    :param base_time: timestamps fall in the week before it (a fixed instant by default).
    :param write_key: the key browser and mobile payloads carry in their body.
    """

    def __init__(
        self,
        faker: Faker | None = None,
        *,
        seed: int | None = None,
        channel: Channel | None = None,
        base_time: datetime = BASE_TIME,
        write_key: str = DEFAULT_WRITE_KEY,
    ) -> None:
        if faker is None:
            faker = Faker("en_US")
            seed = DEFAULT_SEED if seed is None else seed
        if seed is not None:
            faker.seed_instance(seed)
        if channel is not None:
            check_channel(channel)
        self.faker = faker
        self.channel = channel
        self.base_time = _checked_base_time(base_time)
        self.write_key = write_key

    def seed(self, seed: int) -> PayloadFactory:
        """Re-seed the Faker: what follows is the same as after any other `seed(seed)`."""
        self.faker.seed_instance(seed)
        return self

    # -- valid calls -----------------------------------------------------------------------------

    def identify(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """An identify call with a person's traits (email, names, phone, plan, createdAt, ...)."""
        return self._single("identify", channel, overrides)

    def track(self, *, channel: Channel | None = None, semantic: bool | None = None, **overrides: Any) -> JSONObject:
        """A track call: an event with matching properties.

        `semantic=None` mixes in Customer.io's semantic events (Device Created or Updated, User Deleted,
        ...) now and then, `True` sends only those, `False` never. An `event` override picks the event
        and its properties follow it.
        """
        session = self._session("track", channel)
        event = overrides.get("event")
        return self._finish(
            session, self._track(session, event if isinstance(event, str) else None, semantic), overrides
        )

    def page(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """A page call: name, category and url, path, title, referrer and search (and context.page in browsers)."""
        return self._single("page", channel, overrides)

    def screen(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """A screen call: a screen name and its properties."""
        return self._single("screen", channel, overrides)

    def group(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """A group call: a company with `object_type_id` and `relationshipAttributes` in its traits."""
        return self._single("group", channel, overrides)

    def alias(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """An alias call merging `previousId` (an anonymousId or old userId) into `userId`."""
        return self._single("alias", channel, overrides)

    def call(self, call_type: str, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """A call of `call_type` (identify, track, page, screen, group or alias)."""
        if call_type not in CALL_TYPES:
            raise FactoryError(f"no call type {call_type!r}: use one of {', '.join(CALL_TYPES)}")
        method = getattr(self, call_type)
        payload: JSONObject = method(channel=channel, **overrides)
        return payload

    def batch(
        self,
        calls: Iterable[Mapping[str, Any]] | None = None,
        *,
        size: int | None = None,
        types: Sequence[str] | None = None,
        channel: Channel | None = None,
        **overrides: Any,
    ) -> JSONObject:
        """A batch envelope `{"batch": [...]}` as the channel's SDK sends it.

        :param calls: the items, as they are (even none, or more than a request may carry); by default
            `size` calls (1 to 10 when not given) of one person's session, in time order, of the call
            types in `types` (by default a mix typical of the channel).
        :param overrides: deep-merged into the envelope (`sentAt`, `context`, `writeKey`, ...).

        Raises `FactoryError` (a `ValueError`) for a `size` below 1, and for one whose calls come to
        more than the 500 KiB a request may carry (`MAX_BATCH_BYTES`: a few hundred calls fit); to send
        an oversized batch on purpose, pass the calls yourself.
        """
        if calls is None and size is not None and size < 1:
            raise FactoryError(f"a batch holds at least one call; size={size}")
        session = self._session("batch", channel)
        rnd = self.faker.random
        if calls is not None:
            items = [copy_json(call) for call in calls]
        else:
            count = rnd.randint(1, 10) if size is None else size
            if types is not None:
                unknown = [t for t in types if t not in CALL_TYPES]
                if unknown or not types:
                    raise FactoryError(f"batch types must be among {', '.join(CALL_TYPES)}; got {list(types)}")
                kinds = [rnd.choice(list(types)) for _ in range(count)]
            else:
                mix = _SESSION_MIX[session.library.channel]
                kinds = rnd.choices([kind for kind, _ in mix], [weight for _, weight in mix], k=count)
            items = self._batch_items(session, kinds)
        envelope: JSONObject = {"batch": items}
        library = session.library
        if "sentAt" in library.batch_keys:
            envelope["sentAt"] = self._time(session, session.clock + timedelta(milliseconds=rnd.randint(5, 900)))
        if "writeKey" in library.batch_keys:
            envelope["writeKey"] = session.write_key
        if calls is None and len(orjson.dumps(envelope)) > MAX_BATCH_BYTES:
            raise _batch_too_large(len(items), len(orjson.dumps(envelope)))
        return merge_overrides(envelope, overrides)

    def _batch_items(self, session: Session, kinds: Sequence[str]) -> list[JSONObject]:
        """The calls of a batch, refused as soon as they alone outgrow a request (and before the
        session's clock runs on for days)."""
        items: list[JSONObject] = []
        size = 0
        for kind in kinds:
            item = self._seal(session, self._build(kind, session, batched=True))
            items.append(item)
            size += len(orjson.dumps(item)) + 1
            if size > MAX_BATCH_BYTES:
                raise _batch_too_large(len(kinds), size, made=len(items))
        return items

    # -- invalid calls ---------------------------------------------------------------------------

    def invalid_case(self, rule_code: str, *, channel: Channel | None = None, **overrides: Any) -> InvalidCase:
        """The canonical case of rule `rule_code`: a payload that breaks that rule and no other.

        Overrides are merged into the valid payload before it is broken. Raises `UnknownRuleError`
        for a code not in the catalogue, and `FactoryError` if the overrides keep the rule from being
        broken alone.
        """
        return build_case(self, breakers.canonical(rule_code), channel, overrides)

    def invalid(self, rule_code: str, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """The payload of `invalid_case(rule_code)`. See `InvalidCase` for how to send or check it:
        some rules need an endpoint (`type.mismatch`), a region and key (`writeKey.region`) or a batch."""
        return self.invalid_case(rule_code, channel=channel, **overrides).payload

    def mistake(self, name: str, *, channel: Channel | None = None, **overrides: Any) -> InvalidCase:
        """A mistake SDK users make, by name (see `mistakes()`), labelled with the rule it trips."""
        return build_case(self, breakers.named(name), channel, overrides)

    def invalid_cases(self, *, channel: Channel | None = None) -> list[InvalidCase]:
        """One case per rule of the catalogue, in catalogue order."""
        return [build_case(self, breaker, channel, {}) for breaker in breakers.canonical_breakers()]

    def mistakes(self, *, channel: Channel | None = None) -> list[InvalidCase]:
        """The mistakes SDK users really make, each labelled with the rule it trips."""
        return [build_case(self, breaker, channel, {}) for breaker in breakers.mistake_breakers()]

    # -- building blocks -------------------------------------------------------------------------

    def _single(self, call_type: str, channel: Channel | None, overrides: Mapping[str, Any]) -> JSONObject:
        session = self._session(call_type, channel)
        return self._finish(session, self._build(call_type, session), overrides)

    def _finish(self, session: Session, payload: JSONObject, overrides: Mapping[str, Any]) -> JSONObject:
        merge_overrides(payload, overrides)
        return payload if "messageId" in overrides else self._seal(session, payload)

    def _build(self, call_type: str, session: Session, *, batched: bool = False) -> JSONObject:
        builder = getattr(self, "_" + call_type)
        payload: JSONObject = builder(session)
        if batched and session.library.sent_at == "call":
            payload.pop("sentAt", None)  # the batching dispatcher sets one sentAt on the request
        return payload


# -- helpers ---------------------------------------------------------------------------------------


_EARLIEST_BASE_TIME = datetime.min.replace(tzinfo=UTC) + _REACH_BACK
_LATEST_BASE_TIME = datetime.max.replace(tzinfo=UTC) - _REACH_FORWARD


def _checked_base_time(base_time: datetime) -> datetime:
    """The base time in UTC (naive is taken as UTC), far enough from the ends of the calendar for every
    timestamp drawn around it to exist."""
    try:
        utc = (base_time if base_time.tzinfo else base_time.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30+01:00 is in year 0 in UTC
        utc = None
    if utc is None or not _EARLIEST_BASE_TIME <= utc <= _LATEST_BASE_TIME:
        raise FactoryError(
            f"base time {base_time.isoformat()} is out of range: timestamps reach {_REACH_BACK.days:,} days "
            f"before it, so use one from {_EARLIEST_BASE_TIME.date()} to {_LATEST_BASE_TIME.date()}"
        )
    return utc


def _batch_too_large(count: int, size: int, *, made: int | None = None) -> FactoryError:
    measured = f"its first {made} come to {size:,} bytes" if made is not None and made < count else f"{size:,} bytes"
    return FactoryError(
        f"a batch of {count} calls is over the {MAX_BATCH_BYTES:,} bytes ({MAX_BATCH_BYTES // 1024} KiB) a request "
        f"may carry ({measured}): ask for fewer calls, or pass the calls yourself to build an oversized batch "
        "on purpose"
    )
