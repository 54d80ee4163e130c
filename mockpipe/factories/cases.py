"""Invalid payloads: each breaker turns a valid factory payload into one that breaks one rule.

The rules themselves live in `mockpipe.spec.rules` and are checked by `mockpipe.spec.validator`; nothing here
re-states them. Every case is checked against `validate` when it is built: it must be flagged with
its rule and nothing else, or building it raises `FactoryError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from mockpipe.errors import MockpipeError
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.rules import RULES, Violation, rule
from mockpipe.spec.times import parse_timestamp
from mockpipe.spec.validator import validate

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.factories.data import Channel
    from mockpipe.factories.payloads import PayloadFactory
    from mockpipe.types import JSONObject, Severity


class FactoryError(MockpipeError, ValueError):
    """A factory was asked for something it cannot build (an unknown channel, a case its overrides undo)."""


@dataclass(frozen=True, slots=True)
class InvalidCase:
    """A payload that breaks one rule, with what it takes to see that rule flagged.

    Send `payload` as the body of `POST {endpoint}` (`/v1/batch` for the `batch.*` rules, `/v1/screen`
    for `type.mismatch`, whose body says "page"), authenticated with `write_key` when it is set (any
    key otherwise), to a server of `region` when it is set (any server otherwise): the emulator
    journals it with exactly `rule` flagged. Offline, `violations()` runs the same checks.
    """

    rule: str
    name: str  # of the breaker: a stable id such as "numeric-user-id"
    description: str
    payload: JSONObject
    call_type: str  # the endpoint type: identify ... alias, or "batch"
    write_key: str | None = None
    region: str | None = None
    mistake: bool = False  # one of the mistakes SDK users really make

    @property
    def endpoint(self) -> str:
        return f"/v1/{self.call_type}"

    @property
    def severity(self) -> Severity:
        return RULES[self.rule].severity

    def violations(self) -> list[Violation]:
        """What the validator finds in this case, checked as the emulator would check it."""
        return validate(self.payload, call_type=self.call_type, region=self.region, write_key=self.write_key)


class Broken(NamedTuple):
    """What a breaker returns: the payload and where (and how) it must be sent."""

    payload: JSONObject
    call_type: str
    write_key: str | None = None
    region: str | None = None


BreakFunction = Callable[["PayloadFactory", "Channel | None", "Mapping[str, Any]"], Broken]


@dataclass(frozen=True, slots=True)
class Breaker:
    name: str
    rule: str
    description: str
    mistake: bool
    make: BreakFunction


_BREAKERS: list[Breaker] = []


def _register(code: str, name: str, description: str, make: BreakFunction, *, mistake: bool = False) -> None:
    rule(code)  # a typo in a code fails at import, not in a test run
    _BREAKERS.append(Breaker(name, code, description, mistake, make))


def _breaks(
    code: str, name: str, description: str, *, mistake: bool = False
) -> Callable[[BreakFunction], BreakFunction]:
    def register(make: BreakFunction) -> BreakFunction:
        _register(code, name, description, make, mistake=mistake)
        return make

    return register


def _without(call_type: str, field: str, **options: Any) -> BreakFunction:
    """A breaker that leaves `field` out of a valid call of `call_type`."""

    def make(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
        call = factory.call(call_type, channel=channel, **options, **overrides)
        call.pop(field, None)
        return Broken(call, call_type)

    return make


def canonical(code: str) -> Breaker:
    """The first breaker of rule `code`; `UnknownRuleError` for a code not in the catalogue."""
    rule(code)
    for breaker in _BREAKERS:
        if breaker.rule == code:
            return breaker
    raise FactoryError(f"no invalid case breaks rule {code!r} yet: add one to mockpipe/_factory_cases.py")


def canonical_breakers() -> list[Breaker]:
    """One breaker per rule that has one, in catalogue order (a test checks that every rule has one)."""
    first: dict[str, Breaker] = {}
    for breaker in _BREAKERS:
        first.setdefault(breaker.rule, breaker)
    return [first[code] for code in RULES if code in first]


def mistake_breakers() -> list[Breaker]:
    return [breaker for breaker in _BREAKERS if breaker.mistake]


def named(name: str) -> Breaker:
    for breaker in _BREAKERS:
        if breaker.name == name:
            return breaker
    known = ", ".join(sorted(b.name for b in _BREAKERS))
    raise FactoryError(f"no invalid case named {name!r}; known: {known}")


def names() -> list[str]:
    return [breaker.name for breaker in _BREAKERS]


def build(
    factory: PayloadFactory, breaker: Breaker, channel: Channel | None, overrides: Mapping[str, Any]
) -> InvalidCase:
    """Run `breaker` and check the result with the validator: its rule, and only its rule, is flagged."""
    broken = breaker.make(factory, channel, overrides)
    case = InvalidCase(
        breaker.rule,
        breaker.name,
        breaker.description,
        broken.payload,
        broken.call_type,
        broken.write_key,
        broken.region,
        breaker.mistake,
    )
    codes = sorted({v.code for v in case.violations()})
    if codes != [breaker.rule]:
        raise FactoryError(
            f"invalid case {breaker.name!r} should break only {breaker.rule!r} but the validator "
            f"finds {codes or 'nothing'}; do the overrides {dict(overrides)!r} undo or add to it?"
        )
    return case


# -- helpers for the breakers ------------------------------------------------------------------------


def _ensure_anonymous_id(factory: PayloadFactory, payload: JSONObject) -> None:
    """Give the call an anonymousId, so that removing or spoiling userId leaves it about someone."""
    if not isinstance(payload.get("anonymousId"), str) or not payload["anonymousId"]:
        payload["anonymousId"] = _id(factory)


def _id(factory: PayloadFactory) -> str:
    return f"{factory.faker.random.getrandbits(64):016x}"


def _context(payload: JSONObject) -> JSONObject:
    context = payload.setdefault("context", {})
    assert isinstance(context, dict)  # the factories always build an object
    return context


def _moment(payload: JSONObject) -> datetime:
    stamp = payload.get("timestamp")
    parsed = parse_timestamp(stamp) if isinstance(stamp, str) else None
    return parsed or datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _drop_person(payload: JSONObject, key: str) -> None:
    """Remove an id as the SDK would leave it out: the Python clients send null, the others nothing."""
    if key in payload and payload.get("context", {}).get("library", {}).get("name") == "analytics-python":
        payload[key] = None
    else:
        payload.pop(key, None)


# -- who the call is about -------------------------------------------------------------------------


@_breaks(
    "identity.required",
    "no-person-id",
    "a call sent before the person is known: no userId, no anonymousId",
    mistake=True,
)
def _no_person_id(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    _drop_person(call, "userId")
    _drop_person(call, "anonymousId")
    call.pop("groupId", None)
    return Broken(call, "track")


_register(
    "alias.previousId.required",
    "alias-without-previous-id",
    "an alias call without previousId",
    _without("alias", "previousId"),
)
_register(
    "alias.userId.required",
    "alias-without-user-id",
    "an alias call without the userId to keep",
    _without("alias", "userId"),
)
_register(
    "track.event.required",
    "missing-event",
    "a track call without its event name",
    _without("track", "event", semantic=False),
    mistake=True,
)
_register(
    "group.groupId.required", "group-without-group-id", "a group call without groupId", _without("group", "groupId")
)


# -- types and formats -----------------------------------------------------------------------------


@_breaks("id.type", "user-object-as-user-id", "the whole user object passed as userId")
def _user_object(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    _ensure_anonymous_id(factory, call)
    call["userId"] = {"id": call.get("userId") or _id(factory), "email": factory.faker.free_email()}
    return Broken(call, "track")


@_breaks("id.number", "numeric-user-id", "a numeric userId (a database id passed as a number)", mistake=True)
def _numeric_user_id(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    call["userId"] = factory.faker.random.randint(1, 9_999_999)
    return Broken(call, "identify")


@_breaks("field.type", "traits-as-json-string", "traits serialised to a JSON string before sending", mistake=True)
def _traits_string(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    call["traits"] = orjson.dumps(call.get("traits") or {}).decode()
    return Broken(call, "identify")


@_breaks("context.active.type", "active-as-string", 'context.active sent as the string "true"')
def _active_string(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    _context(call)["active"] = "true"
    return Broken(call, "identify")


@_breaks("channel.enum", "wrong-channel", 'a wrong channel: "web" instead of "browser"', mistake=True)
def _wrong_channel(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.page(channel=channel, **overrides)
    call["channel"] = "web"
    return Broken(call, "page")


@_breaks(
    "context.device.type.enum",
    "device-type-capitalised",
    'context.device.type written "iOS" or "Android"',
    mistake=True,
)
def _device_type(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.screen(channel=channel, **overrides)
    device = _context(call).setdefault("device", {})
    device["type"] = {"ios": "iOS", "android": "Android"}.get(device.get("type"), "iPhone")
    return Broken(call, "screen")


@_breaks("context.page.keywords.type", "keywords-as-string", "context.page.keywords as one comma-separated string")
def _keywords_string(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.page(channel=channel, **overrides)
    words = factory.faker.words(factory.faker.random.randint(2, 4))
    _context(call).setdefault("page", {})["keywords"] = ", ".join(words)
    return Broken(call, "page")


@_breaks(
    "integrations.value.type",
    "integration-flag-as-string",
    'an integration switched off with the string "false"',
    mistake=True,
)
def _integration_string(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    integrations = call.get("integrations")
    call["integrations"] = {**(integrations if isinstance(integrations, dict) else {}), "Mixpanel": "false"}
    return Broken(call, "track")


@_breaks("timestamp.format", "us-date-timestamp", "a timestamp written as a US date, 01/02/2024 03:04:05")
def _us_date(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    call["timestamp"] = _moment(call).strftime("%m/%d/%Y %H:%M:%S")
    return Broken(call, "track")


@_breaks(
    "timestamp.epoch", "epoch-ms-timestamp", "an epoch-milliseconds timestamp (JavaScript's Date.now())", mistake=True
)
def _epoch_ms(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    call["timestamp"] = int(_moment(call).timestamp() * 1000)
    return Broken(call, "track")


@_breaks("objectTypeId.format", "object-type-name", 'an object type name ("company") where its id belongs')
def _object_type_name(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.group(channel=channel, **overrides)
    call.pop("objectTypeId", None)
    call.setdefault("traits", {})["object_type_id"] = "company"
    return Broken(call, "group")


@_breaks("objectTypeId.number", "numeric-object-type-id", "object_type_id sent as a number", mistake=True)
def _object_type_number(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.group(channel=channel, **overrides)
    call.pop("objectTypeId", None)
    call.setdefault("traits", {})["object_type_id"] = factory.faker.random.randint(1, 3)
    return Broken(call, "group")


@_breaks(
    "call.too_large", "html-in-properties", "a whole HTML page sent as an event property (over 32 KiB)", mistake=True
)
def _too_large(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    # A few Faker paragraphs repeated: building 40 KiB of fresh text would cost more than the rest.
    paragraphs = [f"<p>{factory.faker.paragraph()}</p>" for _ in range(8)]
    target = MAX_CALL_BYTES + 8 * 1024
    html, index = ["<html><body>"], 0
    size = len(html[0])
    while size < target:
        html.append(paragraphs[index % len(paragraphs)])
        size += len(html[-1])
        index += 1
    html.append("</body></html>")
    properties = call.setdefault("properties", {})
    properties["page_html"] = "".join(html)
    return Broken(call, "track")


@_breaks("writeKey.region", "eu-key-on-us-server", "an EU write key sent to the US region", mistake=True)
def _eu_key(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    key = f"pk_eu_{factory.faker.random.getrandbits(80):020x}"
    call["writeKey"] = key
    return Broken(call, "track", write_key=key, region="us")


# -- semantic events -------------------------------------------------------------------------------


@_breaks(
    "semantic.userId.required", "delete-by-anonymous-id", "User Deleted sent with only an anonymousId", mistake=True
)
def _delete_anonymous(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "User Deleted", **overrides})
    _ensure_anonymous_id(factory, call)
    _drop_person(call, "userId")
    return Broken(call, "track")


@_breaks(
    "semantic.anonymousId.required",
    "object-deleted-by-user-id",
    "Object Deleted sent with a userId instead of an anonymousId",
)
def _object_deleted_user(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "Object Deleted", **overrides})
    call["userId"] = call.get("anonymousId") or _id(factory)
    _drop_person(call, "anonymousId")
    return Broken(call, "track")


@_breaks(
    "semantic.device.token.required",
    "device-without-token",
    "Device Created or Updated without the push token in context.device.token",
    mistake=True,
)
def _device_without_token(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "Device Created or Updated", **overrides})
    _context(call).get("device", {}).pop("token", None)
    return Broken(call, "track")


@_breaks(
    "semantic.objectId.required",
    "snake-case-object-id",
    "Relationship Deleted with properties.object_id instead of objectId",
    mistake=True,
)
def _snake_object_id(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "Relationship Deleted", **overrides})
    properties = call.setdefault("properties", {})
    properties["object_id"] = properties.pop("objectId", None) or _id(factory)
    return Broken(call, "track")


# -- batch envelopes -------------------------------------------------------------------------------


@_breaks("batch.type", "batch-as-object", "one call sent as `batch` instead of a list of calls", mistake=True)
def _batch_object(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    envelope = factory.batch(size=1, channel=channel, **overrides)
    envelope["batch"] = envelope["batch"][0]
    return Broken(envelope, "batch")


@_breaks("batch.empty", "empty-batch", "an empty queue flushed as a batch", mistake=True)
def _batch_empty(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    envelope = factory.batch(size=1, channel=channel, **overrides)
    envelope["batch"] = []
    return Broken(envelope, "batch")


def _spoil_one_item(spoil: Callable[[list[Any], int], None]) -> BreakFunction:
    """A breaker that spoils one item, at random, of a valid batch of 2 to 4 calls."""

    def make(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
        rnd = factory.faker.random
        envelope = factory.batch(size=rnd.randint(2, 4), channel=channel, **overrides)
        spoil(envelope["batch"], rnd.randrange(len(envelope["batch"])))
        return Broken(envelope, "batch")

    return make


def _serialise_twice(items: list[Any], index: int) -> None:
    items[index] = orjson.dumps(items[index]).decode()


def _untype(items: list[Any], index: int) -> None:
    items[index].pop("type", None)


def _capitalise_type(items: list[Any], index: int) -> None:
    items[index]["type"] = str(items[index]["type"]).capitalize()


_register(
    "batch.item.object",
    "call-serialised-twice",
    "a batch item that is a JSON string: the call was serialised twice",
    _spoil_one_item(_serialise_twice),
    mistake=True,
)
_register(
    "batch.item.type",
    "batch-item-without-type",
    "a batch item without its type (a single-call body copied into a batch)",
    _spoil_one_item(_untype),
    mistake=True,
)
_register(
    "batch.item.type",
    "capitalised-type",
    'a batch item typed "Track" instead of "track"',
    _spoil_one_item(_capitalise_type),
    mistake=True,
)


# -- lint ------------------------------------------------------------------------------------------


@_breaks(
    "identify.properties",
    "traits-as-properties",
    "identify with the person's attributes in properties instead of traits",
    mistake=True,
)
def _traits_as_properties(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    call["properties"] = call.pop("traits", None) or {"plan": "pro"}
    return Broken(call, "identify")


@_breaks(
    "identify.traits.context_only", "traits-in-context", "identify with traits only in context.traits", mistake=True
)
def _traits_in_context(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    _context(call)["traits"] = call.pop("traits", None) or {"plan": "pro"}
    return Broken(call, "identify")


@_breaks("key.typo", "snake-case-user-id", "user_id where userId belongs", mistake=True)
def _snake_user_id(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    _ensure_anonymous_id(factory, call)  # without it the call would also be about no one (identity.required)
    call["user_id"] = call.pop("userId", None) or _id(factory)
    return Broken(call, "track")


_register(
    "screen.name.missing", "screen-without-name", "a screen call without the screen's name", _without("screen", "name")
)


@_breaks("type.mismatch", "page-posted-to-screen", "a page call posted to /v1/screen", mistake=True)
def _page_to_screen(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    return Broken(factory.page(channel=channel, **overrides), "screen")


@_breaks(
    "timestamp.epoch", "epoch-seconds-timestamp", "an epoch-seconds timestamp (Python's time.time())", mistake=True
)
def _epoch_seconds(factory: PayloadFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    call["timestamp"] = round(_moment(call).timestamp(), 3)
    return Broken(call, "track")
