"""Who and where a call comes from: a session (one person on one device, with the SDK of one channel),
its person, device and context, and the envelope every call of the session shares (ids, context,
timestamps, messageId). `PayloadFactory` builds on `SessionBuilder`; the call builders are in `calls`."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from mockpipe.factories import data
from mockpipe.factories.cases import FactoryError
from mockpipe.factories.data import CHANNELS, Channel, Library
from mockpipe.factories.overrides import copy_json
from mockpipe.factories.values import (
    alphanumeric,
    ascii_text,
    browser_agent,
    email_local,
    push_token,
    random_uuid,
    uuid_text,
)

if TYPE_CHECKING:
    from random import Random

    from faker import Faker

    from mockpipe.types import JSONObject

# Channels a call type comes from when none is asked for: screens are mobile, pages are web.
_NATURAL_CHANNELS: dict[str, tuple[Channel, ...]] = {
    "page": ("browser", "server"),
    "screen": ("mobile", "server"),
}


def check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise FactoryError(f"no channel {channel!r}: use one of {', '.join(CHANNELS)}")


class Persona:
    """Who a session is about, made only when traits are needed (names are Faker's slowest data)."""

    __slots__ = ("created_at", "email", "first_name", "last_name", "plan")

    def __init__(self, fake: Faker, rnd: Random, base_time: datetime) -> None:
        self.first_name: str = fake.first_name()
        self.last_name: str = fake.last_name()
        local = email_local(f"{self.first_name}.{self.last_name}", latin_only=True)
        if not local:
            # Names in another script (ja_JP, ru_RU, el_GR, ...) have no ASCII form: Faker's user
            # names for those locales are romanised.
            local = email_local(fake.user_name()) or f"user{rnd.randint(1000, 99_999)}"
        if rnd.random() < 0.3:
            local += str(rnd.randint(1, 99))
        self.email = f"{local}@{fake.free_email_domain()}"
        self.created_at = base_time - timedelta(days=rnd.randint(1, 1500), seconds=rnd.randint(0, 86399))
        self.plan = rnd.choice(data.PLANS)


class Session:
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
        self.person: Persona | None = None
        self.context: JSONObject = {}
        self.device: data.PhoneModel | None = None
        self.site = ""
        self.user_agent = ""
        self.browser_page = 0  # pages seen: only the landing page carries a campaign
        self.calls = 0  # calls made: each call's place in the session goes into its messageId
        self.message_salt = b""  # the last call's random bits and place, for `_seal`


class SessionBuilder:
    """Starts sessions and wraps calls in their envelope, from `faker`'s random state alone."""

    faker: Faker
    channel: Channel | None
    base_time: datetime
    write_key: str

    def _seal(self, session: Session, payload: JSONObject) -> JSONObject:
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

    def _session(self, call_type: str, channel: Channel | None) -> Session:
        fake = self.faker
        rnd = fake.random
        if channel is None:
            channel = self.channel
        if channel is None:
            channel = rnd.choice(_NATURAL_CHANNELS.get(call_type, CHANNELS))
        else:
            check_channel(channel)
        library = rnd.choice(data.LIBRARIES[channel])
        market = rnd.choices(data.MARKETS, data.MARKET_WEIGHTS)[0]
        start = self.base_time - timedelta(seconds=rnd.randint(60, 7 * 86400), milliseconds=rnd.randint(0, 999))
        session = Session(library, market, start, self.write_key)
        if channel == "server":
            known = rnd.random() < 0.85
            session.user_id = self._user_id(rnd) if known else None
            session.anonymous_id = random_uuid(rnd) if not known or rnd.random() < 0.2 else None
            session.context = {"library": {"name": library.name, "version": library.version}}
            if rnd.random() < 0.5:
                session.context["ip"] = fake.ipv4_public()
            if rnd.random() < 0.3:
                session.context["userAgent"] = browser_agent(rnd)
                session.context["locale"] = market.locale
        elif channel == "browser":
            session.anonymous_id = random_uuid(rnd)
            session.user_id = self._user_id(rnd) if rnd.random() < 0.6 else None
            session.site = f"{self._word()}{rnd.choice(data.SITE_SUFFIXES)}.{rnd.choice(data.SITE_TLDS)}"
            session.user_agent = browser_agent(rnd)
        else:
            session.anonymous_id = random_uuid(rnd, upper=library.platform == "ios")
            session.user_id = self._user_id(rnd) if rnd.random() < 0.6 else None
            session.context = self._mobile_context(session, rnd)
        return session

    def _user_id(self, rnd: Random) -> str:
        style = rnd.random()
        if style < 0.4:
            return str(rnd.randint(1000, 9_999_999))
        if style < 0.7:
            return random_uuid(rnd)
        return f"{rnd.choice(('usr', 'user', 'cus'))}_{rnd.getrandbits(48):012x}"

    def _word(self) -> str:
        """A Faker word in lower-case ASCII letters and digits, for hosts, paths, app names and queries.

        Locales whose words are in another script (ja_JP, ru_RU, ...) have no ASCII form of them, and
        short words ("a", "0") make poor names: those get one of `data.LATIN_WORDS`.
        """
        word = alphanumeric(self.faker.word())
        return word if len(word) >= 3 and word[0].isalpha() else self.faker.random.choice(data.LATIN_WORDS)

    def _person(self, session: Session) -> Persona:
        if session.person is None:
            session.person = Persona(self.faker, self.faker.random, self.base_time)
        return session.person

    def _mobile_context(self, session: Session, rnd: Random) -> JSONObject:
        library, market = session.library, session.market
        ios = library.platform == "ios"
        device = rnd.choice(data.IOS_DEVICES if ios else data.ANDROID_DEVICES)
        session.device = device
        word = self._word()
        app_name = word.title() + rnd.choice(data.APP_SUFFIXES)
        major, minor, patch = rnd.randint(1, 9), rnd.randint(0, 30), rnd.randint(0, 9)
        device_info: JSONObject = {
            "id": random_uuid(rnd, upper=True) if ios else f"{rnd.getrandbits(64):016x}",
            "manufacturer": device.manufacturer,
            "model": device.model,
            "name": device.name,
            "type": library.platform,
        }
        if rnd.random() < 0.4:
            device_info["advertisingId"] = random_uuid(rnd, upper=ios)
        if rnd.random() < 0.7:  # registered for push: the Customer.io SDKs add the token to every call
            device_info["token"] = push_token(rnd, ios=ios)
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

    def _time(self, session: Session, moment: datetime) -> str:
        if session.library.time_style == "python":
            return moment.isoformat(timespec="milliseconds")
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _envelope(self, session: Session, call_type: str, body: JSONObject, *, ids: bool = True) -> JSONObject:
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
        context = copy_json(session.context)
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

    def _message_id(self, session: Session, number: int) -> str:
        """A messageId as the session's SDK writes it, from a 128-bit number."""
        style = session.library.message_ids
        if style == "node":
            return f"node-next-{int(session.clock.timestamp() * 1000)}-{uuid_text(number)}"
        if style == "ajs":
            return f"ajs-next-{number:032x}"
        return uuid_text(number, upper=style == "UUID")

    def _browser_context(self, session: Session, payload: JSONObject, rnd: Random) -> JSONObject:
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

    def _web_page(self, session: Session, rnd: Random) -> JSONObject:
        """A page of the session's site; the landing page may carry UTM parameters."""
        name, path, category = rnd.choice(data.PAGES)
        if "{slug}" in path:
            path = path.format(slug=ascii_text(self.faker.slug()) or self._word())
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
