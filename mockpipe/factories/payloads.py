"""Realistic Data Pipelines payloads from Faker: valid calls of every type, and invalid ones per rule.

    from mockpipe import factories

    factories.track(seed=1)                                  # a seeded track call, server-shaped
    factories.page(channel="browser", userId="u1")           # overrides are deep-merged
    factories.identify(context={"library": factories.DROP})  # DROP removes a field
    factories.batch(size=5, channel="mobile")                # one person's session, in an envelope
    factories.invalid("track.event.required")                # breaks exactly that rule
    factories.invalid_case("writeKey.region")                # ... with the endpoint, key and region to use

The same seed gives the same payloads in any process and at any time: timestamps count back from
`BASE_TIME` (2024-01-02T03:04:05Z), not from the clock. `PayloadFactory` holds the knobs (a Faker of
your own, another base time, a write key); the module functions share one factory, seeded with 0
when first used, so they are reproducible per process but not thread-safe.
`PipelinesProvider` plugs the same payloads into a Faker: `fake.add_provider(PipelinesProvider)`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import orjson
from faker import Faker
from faker.providers import BaseProvider

from mockpipe.factories import cases, data
from mockpipe.factories.cases import FactoryError, InvalidCase
from mockpipe.factories.data import BASE_TIME, CHANNELS, Channel, Library
from mockpipe.spec.fields import SEMANTIC_DEVICE, SEMANTIC_EVENTS, SEMANTIC_NEEDS_USER
from mockpipe.spec.limits import MAX_BATCH_BYTES
from mockpipe.types import CALL_TYPES, JSONObject

if TYPE_CHECKING:
    from random import Random

    from _pytest.mark import ParameterSet

__all__ = [
    "BASE_TIME",
    "CHANNELS",
    "DEFAULT_SEED",
    "DEFAULT_WRITE_KEY",
    "DROP",
    "EVENTS",
    "SEMANTIC_EVENT_NAMES",
    "FactoryError",
    "InvalidCase",
    "PayloadFactory",
    "PipelinesProvider",
    "alias",
    "batch",
    "default_factory",
    "group",
    "identify",
    "invalid",
    "invalid_case",
    "invalid_cases",
    "mistake_cases",
    "mistakes",
    "page",
    "screen",
    "track",
]

DEFAULT_SEED = 0  # as faker's pytest plugin: unseeded use is still reproducible within a process
DEFAULT_WRITE_KEY = "mockpipe_test_key"  # carried in browser and mobile bodies; names no region


class _Drop:
    """The type of `DROP`."""

    _instance: _Drop | None = None

    def __new__(cls) -> _Drop:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DROP"


DROP: Final = _Drop()
"""An override value that removes the field: `track(anonymousId=DROP, context={"ip": DROP})`."""

# Ordinary events (name, weight); app lifecycle events only come from mobile SDKs.
EVENTS: tuple[tuple[str, int], ...] = (
    ("Order Completed", 12),
    ("Product Viewed", 14),
    ("Product Added", 10),
    ("Checkout Started", 6),
    ("Signed Up", 8),
    ("Logged In", 10),
    ("Video Playback Started", 6),
    ("Subscription Started", 4),
    ("Button Clicked", 8),
    ("Application Opened", 8),
)
_MOBILE_ONLY_EVENTS = ("Application Opened",)
# Sorted: the validator's catalogue is a frozenset, whose order changes from process to process.
SEMANTIC_EVENT_NAMES: tuple[str, ...] = tuple(sorted(SEMANTIC_EVENTS))
_SEMANTIC_SHARE = 0.1  # of track calls, when semantic events are mixed in

# What a session of each channel sends most, for batches: (type, weight).
_SESSION_MIX: dict[Channel, tuple[tuple[str, int], ...]] = {
    "browser": (("page", 40), ("track", 35), ("identify", 15), ("group", 5), ("alias", 5)),
    "mobile": (("screen", 40), ("track", 40), ("identify", 14), ("group", 4), ("alias", 2)),
    "server": (("track", 50), ("identify", 30), ("group", 15), ("alias", 5)),
}
# Channels a call type comes from when none is asked for: screens are mobile, pages are web.
_NATURAL_CHANNELS: dict[str, tuple[Channel, ...]] = {
    "page": ("browser", "server"),
    "screen": ("mobile", "server"),
}
# How far timestamps reach from the base time: back to a group's creation (3,000 days) and a person's
# signup (1,500), forward through a session of the largest batch that fits a request.
_REACH_BACK = timedelta(days=3001)
_REACH_FORWARD = timedelta(days=30)
_COMPANY_SHARE = 0.4  # of identify calls whose traits carry the person's company


class _Person:
    """Who a session is about, made only when traits are needed (names are Faker's slowest data)."""

    __slots__ = ("created_at", "email", "first_name", "last_name", "plan")

    def __init__(self, fake: Faker, rnd: Random, base_time: datetime) -> None:
        self.first_name: str = fake.first_name()
        self.last_name: str = fake.last_name()
        local = _email_local(f"{self.first_name}.{self.last_name}", latin_only=True)
        if not local:
            # Names in another script (ja_JP, ru_RU, el_GR, ...) have no ASCII form: Faker's user
            # names for those locales are romanised.
            local = _email_local(fake.user_name()) or f"user{rnd.randint(1000, 99_999)}"
        if rnd.random() < 0.3:
            local += str(rnd.randint(1, 99))
        self.email = f"{local}@{fake.free_email_domain()}"
        self.created_at = base_time - timedelta(days=rnd.randint(1, 1500), seconds=rnd.randint(0, 86399))
        self.plan = rnd.choice(data.PLANS)


class _Session:
    """One person on one device: what the calls of a batch (or a single call) share."""

    __slots__ = (
        "anonymous_id",
        "browser_page",
        "calls",
        "clock",
        "context",
        "device",
        "library",
        "market",
        "message_salt",
        "person",
        "site",
        "user_agent",
        "user_id",
        "write_key",
    )

    def __init__(self, library: Library, market: data.Market, clock: datetime, write_key: str) -> None:
        self.library = library
        self.market = market
        self.clock = clock
        self.write_key = write_key
        self.user_id: str | None = None
        self.anonymous_id: str | None = None
        self.person: _Person | None = None
        self.context: JSONObject = {}
        self.device: data.Device | None = None
        self.site = ""
        self.user_agent = ""
        self.browser_page = 0  # pages seen: only the landing page carries a campaign
        self.calls = 0  # calls made: each call's place in the session goes into its messageId
        self.message_salt = b""  # the last call's random bits and place, for `_seal`


class PayloadFactory:
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
            _check_channel(channel)
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
            items = [_copy(call) for call in calls]
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
        return _merge(envelope, overrides)

    def _batch_items(self, session: _Session, kinds: Sequence[str]) -> list[JSONObject]:
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
        return cases.build(self, cases.canonical(rule_code), channel, overrides)

    def invalid(self, rule_code: str, *, channel: Channel | None = None, **overrides: Any) -> JSONObject:
        """The payload of `invalid_case(rule_code)`. See `InvalidCase` for how to send or check it:
        some rules need an endpoint (`type.mismatch`), a region and key (`writeKey.region`) or a batch."""
        return self.invalid_case(rule_code, channel=channel, **overrides).payload

    def mistake(self, name: str, *, channel: Channel | None = None, **overrides: Any) -> InvalidCase:
        """A mistake SDK users make, by name (see `mistakes()`), labelled with the rule it trips."""
        return cases.build(self, cases.named(name), channel, overrides)

    def invalid_cases(self, *, channel: Channel | None = None) -> list[InvalidCase]:
        """One case per rule of the catalogue, in catalogue order."""
        return [cases.build(self, breaker, channel, {}) for breaker in cases.canonical_breakers()]

    def mistakes(self, *, channel: Channel | None = None) -> list[InvalidCase]:
        """The mistakes SDK users really make, each labelled with the rule it trips."""
        return [cases.build(self, breaker, channel, {}) for breaker in cases.mistake_breakers()]

    # -- building blocks -------------------------------------------------------------------------

    def _single(self, call_type: str, channel: Channel | None, overrides: Mapping[str, Any]) -> JSONObject:
        session = self._session(call_type, channel)
        return self._finish(session, self._build(call_type, session), overrides)

    def _finish(self, session: _Session, payload: JSONObject, overrides: Mapping[str, Any]) -> JSONObject:
        _merge(payload, overrides)
        return payload if "messageId" in overrides else self._seal(session, payload)

    def _seal(self, session: _Session, payload: JSONObject) -> JSONObject:
        """Set the call's messageId from its random bits, its place in the session and its final content.

        Random bits alone repeat: two same-seed calls of different types (or channels, or overrides)
        draw them after the same number of steps often enough (~2% of pairs), and the emulator, as the
        real service, would take the second for a resend of the first. The content (type, ids, event,
        context, overrides, ...) and the place make them differ; the same seed still gives the same id.
        """
        payload["messageId"] = ""  # (already so, unless sealed before): the id is not part of what it hashes
        content = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS, default=repr)
        digest = hashlib.blake2b(session.message_salt + content, digest_size=16).digest()
        payload["messageId"] = self._message_id(session, int.from_bytes(digest, "big"))
        return payload

    def _build(self, call_type: str, session: _Session, *, batched: bool = False) -> JSONObject:
        builder = getattr(self, "_" + call_type)
        payload: JSONObject = builder(session)
        if batched and session.library.sent_at == "call":
            payload.pop("sentAt", None)  # the batching dispatcher sets one sentAt on the request
        return payload

    def _session(self, call_type: str, channel: Channel | None) -> _Session:
        fake = self.faker
        rnd = fake.random
        if channel is None:
            channel = self.channel
        if channel is None:
            channel = rnd.choice(_NATURAL_CHANNELS.get(call_type, CHANNELS))
        else:
            _check_channel(channel)
        library = rnd.choice(data.LIBRARIES[channel])
        market = rnd.choices(data.MARKETS, data.MARKET_WEIGHTS)[0]
        start = self.base_time - timedelta(seconds=rnd.randint(60, 7 * 86400), milliseconds=rnd.randint(0, 999))
        session = _Session(library, market, start, self.write_key)
        if channel == "server":
            known = rnd.random() < 0.85
            session.user_id = self._user_id(rnd) if known else None
            session.anonymous_id = _uuid(rnd) if not known or rnd.random() < 0.2 else None
            session.context = {"library": {"name": library.name, "version": library.version}}
            if rnd.random() < 0.5:
                session.context["ip"] = fake.ipv4_public()
            if rnd.random() < 0.3:
                session.context["userAgent"] = _browser_agent(rnd)
                session.context["locale"] = market.locale
        elif channel == "browser":
            session.anonymous_id = _uuid(rnd)
            session.user_id = self._user_id(rnd) if rnd.random() < 0.6 else None
            session.site = f"{self._word()}{rnd.choice(data.SITE_SUFFIXES)}.{rnd.choice(data.SITE_TLDS)}"
            session.user_agent = _browser_agent(rnd)
        else:
            session.anonymous_id = _uuid(rnd, upper=library.platform == "ios")
            session.user_id = self._user_id(rnd) if rnd.random() < 0.6 else None
            session.context = self._mobile_context(session, rnd)
        return session

    def _user_id(self, rnd: Random) -> str:
        style = rnd.random()
        if style < 0.4:
            return str(rnd.randint(1000, 9_999_999))
        if style < 0.7:
            return _uuid(rnd)
        return f"{rnd.choice(('usr', 'user', 'cus'))}_{rnd.getrandbits(48):012x}"

    def _word(self) -> str:
        """A Faker word in lower-case ASCII letters and digits, for hosts, paths, app names and queries.

        Locales whose words are in another script (ja_JP, ru_RU, ...) have no ASCII form of them, and
        short words ("a", "0") make poor names: those get one of `data.LATIN_WORDS`.
        """
        word = _alphanumeric(self.faker.word())
        return word if len(word) >= 3 and word[0].isalpha() else self.faker.random.choice(data.LATIN_WORDS)

    def _person(self, session: _Session) -> _Person:
        if session.person is None:
            session.person = _Person(self.faker, self.faker.random, self.base_time)
        return session.person

    def _mobile_context(self, session: _Session, rnd: Random) -> JSONObject:
        library, market = session.library, session.market
        ios = library.platform == "ios"
        device = rnd.choice(data.IOS_DEVICES if ios else data.ANDROID_DEVICES)
        session.device = device
        word = self._word()
        app_name = word.title() + rnd.choice(data.APP_SUFFIXES)
        major, minor, patch = rnd.randint(1, 9), rnd.randint(0, 30), rnd.randint(0, 9)
        device_info: JSONObject = {
            "id": _uuid(rnd, upper=True) if ios else f"{rnd.getrandbits(64):016x}",
            "manufacturer": device.manufacturer,
            "model": device.model,
            "name": device.name,
            "type": library.platform,
        }
        if rnd.random() < 0.4:
            device_info["advertisingId"] = _uuid(rnd, upper=ios)
        if rnd.random() < 0.7:  # registered for push: the Customer.io SDKs add the token to every call
            device_info["token"] = _push_token(rnd, ios=ios)
        wifi = rnd.random() < 0.6
        context: JSONObject = {
            "app": {
                "name": app_name,
                "version": f"{major}.{minor}.{patch}",
                "build": str(major * 1000 + minor * 10 + patch),
                "namespace": f"com.{word}.{'app' if ios else 'android'}",
            },
            "device": device_info,
            "library": {"name": library.name, "version": library.version},
            "locale": market.locale,
            "network": {
                "wifi": wifi,
                "cellular": not wifi or rnd.random() < 0.2,
                "bluetooth": rnd.random() < 0.3,
                "carrier": rnd.choice(market.carriers),
            },
            "os": {"name": "iOS", "version": rnd.choice(data.IOS_VERSIONS)} if ios else {},
            "screen": {"width": device.width, "height": device.height, "density": device.density},
            "timezone": rnd.choice(market.timezones),
        }
        if not ios:
            version, build = rnd.choice(data.ANDROID_VERSIONS)
            context["os"] = {"name": "Android", "version": version}
            context["userAgent"] = f"Dalvik/2.1.0 (Linux; U; Android {version}; {device.model} Build/{build})"
        return context

    def _time(self, session: _Session, moment: datetime) -> str:
        if session.library.time_style == "python":
            return moment.isoformat(timespec="milliseconds")
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _envelope(self, session: _Session, call_type: str, body: JSONObject, *, ids: bool = True) -> JSONObject:
        """Wrap a call's own fields the way the session's SDK does: ids, context, timestamps, messageId."""
        rnd = self.faker.random
        library = session.library
        session.clock += timedelta(seconds=rnd.randint(1, 120), milliseconds=rnd.randint(0, 999))
        payload: JSONObject = {"type": call_type}
        if ids:
            for key, value in (("userId", session.user_id), ("anonymousId", session.anonymous_id)):
                if value is not None or library.explicit_nulls:
                    payload[key] = value
        payload.update(body)
        context = _copy(session.context)
        if library.channel == "browser":
            context = self._browser_context(session, payload, rnd)
        payload["context"] = {**context, **payload.get("context", {})}
        if library.integrations:
            payload["integrations"] = {}
        payload["timestamp"] = self._time(session, session.clock)
        session.calls += 1
        session.message_salt = rnd.getrandbits(128).to_bytes(16, "big") + session.calls.to_bytes(4, "big")
        payload["messageId"] = ""  # set by `_seal` once the call is whole (overrides and all)
        if library.sent_at == "call":
            payload["sentAt"] = self._time(session, session.clock + timedelta(milliseconds=rnd.randint(3, 60)))
        if library.body_write_key:
            payload["writeKey"] = session.write_key
        if library.metadata:
            payload["_metadata"] = dict(library.metadata)
        elif library.channel == "browser":
            payload["_metadata"] = {"bundled": list(data.BROWSER_BUNDLED), "unbundled": [], "bundledIds": []}
        return payload

    def _message_id(self, session: _Session, number: int) -> str:
        """A messageId as the session's SDK writes it, from a 128-bit number."""
        style = session.library.message_ids
        if style == "node":
            return f"node-next-{int(session.clock.timestamp() * 1000)}-{_uuid_text(number)}"
        if style == "ajs":
            return f"ajs-next-{number:032x}"
        return _uuid_text(number, upper=style == "UUID")

    def _browser_context(self, session: _Session, payload: JSONObject, rnd: Random) -> JSONObject:
        """context.page of the page the person is on (the page call's own page, for page calls)."""
        page = payload.get("properties") if payload["type"] == "page" else None
        if not isinstance(page, dict) or "url" not in page:
            page = self._web_page(session, rnd)
        campaign = page.pop("_campaign", {})
        return {
            "page": {key: page[key] for key in ("path", "referrer", "search", "title", "url")},
            "userAgent": session.user_agent,
            "locale": session.market.locale,
            "library": {"name": session.library.name, "version": session.library.version},
            "campaign": campaign,
        }

    def _web_page(self, session: _Session, rnd: Random) -> JSONObject:
        """A page of the session's site; the landing page may carry UTM parameters."""
        name, path, category = rnd.choice(data.PAGES)
        if "{slug}" in path:
            path = path.format(slug=_ascii(self.faker.slug()) or self._word())
        params: list[tuple[str, str]] = []
        if path == "/search":
            params.append(("q", "+".join(self._word() for _ in range(rnd.randint(1, 3)))))
        campaign: JSONObject = {}
        landing = session.browser_page == 0
        session.browser_page += 1
        if landing and rnd.random() < 0.35:
            campaign = {
                "name": rnd.choice(data.UTM_CAMPAIGNS),
                "source": rnd.choice(data.UTM_SOURCES),
                "medium": rnd.choice(data.UTM_MEDIUMS),
            }
            if rnd.random() < 0.4:
                campaign["term"] = self._word()
            if rnd.random() < 0.4:
                campaign["content"] = rnd.choice(data.UTM_CONTENTS)
            # analytics.js reads context.campaign from utm_* (utm_campaign becomes campaign.name).
            params.extend((f"utm_{'campaign' if key == 'name' else key}", value) for key, value in campaign.items())
        search = ("?" + "&".join(f"{key}={value}" for key, value in params)) if params else ""
        referrer = rnd.choice(data.REFERRERS) if landing else f"https://{session.site}/"
        site_name = session.site.split(".")[0].title()
        return {
            "name": name,
            "category": category,
            "path": path,
            "referrer": referrer,
            "search": search,
            "title": f"{name} | {site_name}",
            "url": f"https://{session.site}{path}{search}",
            "_campaign": campaign,
        }

    # -- one builder per call type ---------------------------------------------------------------

    def _identify(self, session: _Session) -> JSONObject:
        rnd = self.faker.random
        if session.user_id is None and rnd.random() < 0.8:
            session.user_id = self._user_id(rnd)  # identify is mostly sent when someone signs up or logs in
        person = self._person(session)
        traits: JSONObject = {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "plan": person.plan,
            "createdAt": self._time(session, person.created_at),
        }
        if rnd.random() < _COMPANY_SHARE:
            traits["company"] = self._company(rnd)
        if rnd.random() < 0.5:
            traits["phone"] = self.faker.phone_number()
        if rnd.random() < 0.4:
            traits["logins"] = rnd.randint(1, 400)
        if rnd.random() < 0.15:
            traits["cio_subscription_preferences"] = {
                "topics": {f"topic_{index + 1}": rnd.random() < 0.7 for index in range(len(data.EMAIL_TOPICS))}
            }
        return self._envelope(session, "identify", {"traits": traits})

    def _company(self, rnd: Random) -> JSONObject:
        """Where a person works, as Segment's identify spec has it: `traits.company` with name, id, industry,
        employee_count (and plan, which the person's own `plan` trait stands for here)."""
        company: JSONObject = {"name": self.faker.company()}
        if rnd.random() < 0.5:
            company["id"] = _group_id(rnd)  # the groupId of the company's group calls
        if rnd.random() < 0.7:
            company["industry"] = rnd.choice(data.INDUSTRIES)
        if rnd.random() < 0.6:
            company["employee_count"] = rnd.choice(data.COMPANY_SIZES)
        return company

    def _track(self, session: _Session, event: str | None = None, semantic: bool | None = None) -> JSONObject:
        rnd = self.faker.random
        if event is None:
            if semantic or (semantic is None and rnd.random() < _SEMANTIC_SHARE):
                event = rnd.choice(SEMANTIC_EVENT_NAMES)
            else:
                mobile = session.library.channel == "mobile"
                pool = [(name, weight) for name, weight in EVENTS if mobile or name not in _MOBILE_ONLY_EVENTS]
                event = rnd.choices([name for name, _ in pool], [weight for _, weight in pool])[0]
        if event in SEMANTIC_EVENTS:
            return self._semantic(session, event)
        properties = self._event_properties(session, event, rnd)
        return self._envelope(session, "track", {"event": event, "properties": properties})

    def _event_properties(self, session: _Session, event: str, rnd: Random) -> JSONObject:
        currency = session.market.currency
        if event in ("Order Completed", "Checkout Started"):
            products = [self._product(rnd, currency) for _ in range(rnd.randint(1, 4))]
            revenue = _money(sum(p["price"] * p["quantity"] for p in products), currency)
            order: JSONObject = {"order_id": str(rnd.randint(100_000, 9_999_999))}
            if event == "Checkout Started":
                return {**order, "value": revenue, "currency": currency, "products": products}
            shipping = _money(rnd.choice((0, 0, 4.99, 9.99)), currency)
            tax = _money(revenue * rnd.choice((0, 0.07, 0.2)), currency)
            order.update(
                total=_money(revenue + shipping + tax, currency),
                revenue=revenue,
                shipping=shipping,
                tax=tax,
                currency=currency,
                products=products,
            )
            if rnd.random() < 0.25:
                order["coupon"] = rnd.choice(data.COUPONS)
            return order
        if event in ("Product Viewed", "Product Added"):
            product = self._product(rnd, currency)
            product["currency"] = currency
            if event == "Product Added":
                product["cart_id"] = f"{rnd.getrandbits(64):016x}"
            else:
                product.pop("quantity")
            return product
        if event == "Signed Up":
            return {
                "plan": rnd.choice(data.PLANS),
                "method": rnd.choice(data.SIGNUP_METHODS),
                "trial": rnd.random() < 0.5,
            }
        if event == "Logged In":
            return {"method": rnd.choice(data.SIGNUP_METHODS)}
        if event == "Video Playback Started":
            return {
                "session_id": _uuid(rnd),
                "content_asset_id": str(rnd.randint(10_000, 99_999)),
                "title": self.faker.catch_phrase(),
                "position": 0,
                "total_length": rnd.randint(30, 3600),
                "sound": rnd.randint(0, 100),
                "full_screen": rnd.random() < 0.3,
                "video_player": rnd.choice(data.VIDEO_PLAYERS),
                "bitrate": rnd.choice((800, 1500, 3000, 6000)),
            }
        if event == "Subscription Started":
            period = rnd.choice(("monthly", "annual"))
            amount = rnd.choice((9, 19, 49, 99)) * (10 if period == "annual" else 1)
            return {
                "plan": rnd.choice(data.PLANS[1:]),
                "billing_period": period,
                "amount": _money(amount, currency),
                "currency": currency,
            }
        if event == "Button Clicked":
            return {
                "label": rnd.choice(("Get started", "Buy now", "Learn more", "Contact sales", "Subscribe")),
                "location": rnd.choice(("hero", "header", "footer", "pricing_table")),
            }
        if event == "Application Opened":
            app = session.context.get("app", {})
            return {
                "from_background": rnd.random() < 0.6,
                "version": app.get("version", "1.0.0"),
                "build": app.get("build", "1"),
            }
        return {}  # an event name given as an override that we have no properties for

    def _product(self, rnd: Random, currency: str) -> JSONObject:
        noun, category = rnd.choice(data.PRODUCTS)
        return {
            "product_id": str(rnd.randint(1000, 99_999)),
            "sku": f"{category[:3].upper()}-{rnd.randint(10_000, 99_999)}",
            "name": f"{rnd.choice(data.PRODUCT_ADJECTIVES)} {noun}",
            "category": category,
            "price": _money(rnd.uniform(4, 250), currency),
            "quantity": rnd.randint(1, 3),
        }

    def _semantic(self, session: _Session, event: str) -> JSONObject:
        """Customer.io's reserved events, with what each needs (see mockpipe.spec.fields.SEMANTIC_*)."""
        rnd = self.faker.random
        body: JSONObject = {"event": event, "properties": {}}
        if event in SEMANTIC_NEEDS_USER and session.user_id is None:
            session.user_id = self._user_id(rnd)
        if event == "Object Deleted":
            session.user_id = None  # objects are not people: the spec keys the call on anonymousId
            if session.anonymous_id is None:
                session.anonymous_id = _uuid(rnd)
        if event in ("Relationship Deleted", "Object Deleted"):
            body["properties"] = {"objectId": _group_id(rnd), "objectTypeId": rnd.randint(1, 3)}
        if event in SEMANTIC_DEVICE:
            ios = session.library.platform == "ios" or (session.library.platform == "" and rnd.random() < 0.5)
            device = dict(session.context.get("device", {}))
            device.setdefault("token", _push_token(rnd, ios=ios))
            device.setdefault("type", "ios" if ios else "android")
            body["context"] = {"device": device}
            if event == "Device Created or Updated":
                app = session.context.get("app", {})
                os_info = session.context.get("os", {})
                body["properties"] = {
                    "device_os": os_info.get("version", rnd.choice(data.IOS_VERSIONS)),
                    "device_model": device.get("model", rnd.choice(data.IOS_DEVICES).model),
                    "app_version": app.get("version", f"{rnd.randint(1, 9)}.{rnd.randint(0, 30)}.0"),
                    "push_enabled": rnd.random() < 0.8,
                }
        return self._envelope(session, "track", body)

    def _page(self, session: _Session) -> JSONObject:
        rnd = self.faker.random
        page = self._web_page(session, rnd) if session.site else self._server_page(session, rnd)
        body: JSONObject = {"name": page["name"]}
        category = page.get("category")
        if category is not None or session.library.explicit_nulls:
            body["category"] = category
        if session.library.channel == "browser":
            body["properties"] = page  # the browser fills properties with the page and keeps context.page
        else:
            properties = {key: page[key] for key in ("url", "title", "path")}
            if category is not None and session.library.name == data.NODE.name:
                properties["category"] = category  # the node SDKs copy category into properties
            body["properties"] = properties
        payload = self._envelope(session, "page", body)
        if isinstance(payload.get("properties"), dict):
            payload["properties"].pop("_campaign", None)
            if payload["properties"].get("category") is None:
                payload["properties"].pop("category", None)
        return payload

    def _server_page(self, session: _Session, rnd: Random) -> JSONObject:
        if not session.site:
            session.site = f"{self._word()}.{rnd.choice(data.SITE_TLDS)}"
        return self._web_page(session, rnd)

    def _screen(self, session: _Session) -> JSONObject:
        rnd = self.faker.random
        name, category = rnd.choice(data.SCREENS)
        properties: JSONObject = {}
        if name == "Product Detail":
            properties = {"product_id": str(rnd.randint(1000, 99_999))}
        elif name == "Search":
            properties = {"query": self._word()}
        elif name == "Feed":
            properties = {"tab": rnd.choice(("for_you", "following", "popular"))}
        body: JSONObject = {"name": name}
        if category is not None or session.library.explicit_nulls:
            body["category"] = category
        body["properties"] = properties
        return self._envelope(session, "screen", body)

    def _group(self, session: _Session) -> JSONObject:
        rnd = self.faker.random
        company: str = self.faker.company()
        slug = _alphanumeric(company)[:24] or self._word()
        object_type = str(rnd.choice((1, 1, 1, 2, 3)))
        traits: JSONObject = {
            "name": company,
            "industry": rnd.choice(data.INDUSTRIES),
            "employees": rnd.choice(data.COMPANY_SIZES),
            "plan": rnd.choice(data.PLANS),
            "website": f"https://www.{slug}.com",
            "createdAt": self._time(session, self.base_time - timedelta(days=rnd.randint(30, 3000))),
            "relationshipAttributes": {"role": rnd.choice(data.ROLES), "joined_at": self._time(session, session.clock)},
        }
        body: JSONObject = {"groupId": _group_id(rnd)}
        if rnd.random() < 0.2:
            body["objectTypeId"] = object_type  # the spec allows the top level too
        else:
            traits["object_type_id"] = object_type
        body["traits"] = traits
        if session.user_id is None and session.anonymous_id is None:
            session.user_id = self._user_id(rnd)
        return self._envelope(session, "group", body)

    def _alias(self, session: _Session) -> JSONObject:
        rnd = self.faker.random
        previous = session.anonymous_id or self._user_id(rnd)
        if session.user_id is None:
            session.user_id = self._user_id(rnd)  # the moment an anonymous visitor signs up
        return self._envelope(session, "alias", {"previousId": previous, "userId": session.user_id}, ids=False)


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


# -- module functions: one shared factory ----------------------------------------------------------

_default: PayloadFactory | None = None


def default_factory(seed: int | None = None) -> PayloadFactory:
    """The factory the module functions share (created seeded with `DEFAULT_SEED`); re-seeded if `seed`."""
    global _default
    if _default is None:
        _default = PayloadFactory()
    if seed is not None:
        _default.seed(seed)
    return _default


def identify(*, seed: int | None = None, channel: Channel | None = None, **overrides: Any) -> JSONObject:
    """An identify call; see `PayloadFactory.identify`."""
    return default_factory(seed).identify(channel=channel, **overrides)


def track(
    *, seed: int | None = None, channel: Channel | None = None, semantic: bool | None = None, **overrides: Any
) -> JSONObject:
    """A track call; see `PayloadFactory.track`."""
    return default_factory(seed).track(channel=channel, semantic=semantic, **overrides)


def page(*, seed: int | None = None, channel: Channel | None = None, **overrides: Any) -> JSONObject:
    """A page call; see `PayloadFactory.page`."""
    return default_factory(seed).page(channel=channel, **overrides)


def screen(*, seed: int | None = None, channel: Channel | None = None, **overrides: Any) -> JSONObject:
    """A screen call; see `PayloadFactory.screen`."""
    return default_factory(seed).screen(channel=channel, **overrides)


def group(*, seed: int | None = None, channel: Channel | None = None, **overrides: Any) -> JSONObject:
    """A group call; see `PayloadFactory.group`."""
    return default_factory(seed).group(channel=channel, **overrides)


def alias(*, seed: int | None = None, channel: Channel | None = None, **overrides: Any) -> JSONObject:
    """An alias call; see `PayloadFactory.alias`."""
    return default_factory(seed).alias(channel=channel, **overrides)


def batch(
    calls: Iterable[Mapping[str, Any]] | None = None,
    *,
    seed: int | None = None,
    size: int | None = None,
    types: Sequence[str] | None = None,
    channel: Channel | None = None,
    **overrides: Any,
) -> JSONObject:
    """A batch envelope; see `PayloadFactory.batch`."""
    return default_factory(seed).batch(calls, size=size, types=types, channel=channel, **overrides)


def invalid(rule_code: str, *, seed: int | None = None, channel: Channel | None = None, **overrides: Any) -> JSONObject:
    """A payload that breaks rule `rule_code` and no other; see `PayloadFactory.invalid`."""
    return default_factory(seed).invalid(rule_code, channel=channel, **overrides)


def invalid_case(
    rule_code: str, *, seed: int | None = None, channel: Channel | None = None, **overrides: Any
) -> InvalidCase:
    """The `InvalidCase` of rule `rule_code`: payload, endpoint, and the key and region it needs."""
    return default_factory(seed).invalid_case(rule_code, channel=channel, **overrides)


def mistakes(*, seed: int = DEFAULT_SEED, channel: Channel | None = None) -> list[InvalidCase]:
    """The mistakes SDK users make, each an `InvalidCase` labelled with the rule it trips."""
    return default_factory(seed).mistakes(channel=channel)


def invalid_cases(*, seed: int = DEFAULT_SEED, channel: Channel | None = None) -> list[ParameterSet]:
    """One `pytest.param(InvalidCase, id=<rule code>)` per rule of the catalogue, for `parametrize`.

    @pytest.mark.parametrize("case", factories.invalid_cases())
    def test_rejects(case): ...
    """
    import pytest  # only when asked: the factories work without pytest

    return [pytest.param(case, id=case.rule) for case in default_factory(seed).invalid_cases(channel=channel)]


def mistake_cases(*, seed: int = DEFAULT_SEED, channel: Channel | None = None) -> list[ParameterSet]:
    """One `pytest.param(InvalidCase, id=<mistake name>)` per mistake of `mistakes()`."""
    import pytest

    return [pytest.param(case, id=case.name) for case in mistakes(seed=seed, channel=channel)]


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


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise FactoryError(f"no channel {channel!r}: use one of {', '.join(CHANNELS)}")


def _merge(base: JSONObject, overrides: Mapping[str, Any]) -> JSONObject:
    """Deep-merge `overrides` into `base` in place: objects merge, other values replace, DROP removes."""
    for key, value in overrides.items():
        if value is DROP:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = _copy(value)
    return base


def _copy(value: Any) -> Any:
    """A copy of JSON-like data, without the DROP markers (they only mean something in a merge)."""
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items() if item is not DROP}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value if item is not DROP]
    return value


def _uuid(rnd: Random, *, upper: bool = False) -> str:
    return _uuid_text(rnd.getrandbits(128), upper=upper)


def _uuid_text(number: int, *, upper: bool = False) -> str:
    """A version-4 UUID from a 128-bit number (its version and variant bits overwritten)."""
    text = str(uuid.UUID(int=number, version=4))
    return text.upper() if upper else text


def _push_token(rnd: Random, *, ios: bool) -> str:
    if ios:
        return f"{rnd.getrandbits(256):064x}"  # an APNs device token
    # An FCM registration token: 22 characters, a colon, then "APA91b" and 134 more (URL-safe base64).
    text = base64.urlsafe_b64encode(rnd.randbytes(117)).decode()
    return f"{text[:22]}:APA91b{text[22:156]}"


def _group_id(rnd: Random) -> str:
    return f"{rnd.choice(('acct', 'org', 'co', 'team'))}_{rnd.randint(1000, 999_999)}"


def _browser_agent(rnd: Random) -> str:
    template, (low, high) = rnd.choice(data.BROWSER_TEMPLATES)
    return template.format(v=rnd.randint(low, high))


def _money(amount: float, currency: str) -> float:
    return float(round(amount)) if currency in data.ZERO_DECIMAL_CURRENCIES else round(float(amount), 2)


def _ascii(text: str) -> str:
    """Text without accents, for ids, e-mail addresses and urls built from Faker's words and names."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _alphanumeric(text: str) -> str:
    """`text` in lower-case ASCII letters and digits only ("" for words of another script)."""
    return _NOT_ALPHANUMERIC.sub("", _ascii(text).lower())


def _email_local(text: str, *, latin_only: bool = False) -> str:
    """`text` as the local part of an e-mail address: lower-case ASCII letters and digits, in runs joined
    by single dots, dashes or underscores; "" when nothing is left. With `latin_only`, also "" when
    a letter has no ASCII form (Cyrillic, kana, ...): what is left would be a misleading fragment."""
    if latin_only and any(
        ch.isalpha() and not ch.isascii() and not unicodedata.combining(ch)
        for ch in unicodedata.normalize("NFKD", text)
    ):
        return ""
    local = _NOT_IN_LOCAL_PART.sub("", _ascii(text).lower())
    return _SEPARATOR_RUN.sub(lambda run: run.group(0)[0], local).strip("._-")


_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_NOT_IN_LOCAL_PART = re.compile(r"[^a-z0-9._-]+")
_SEPARATOR_RUN = re.compile(r"[._-]{2,}")
