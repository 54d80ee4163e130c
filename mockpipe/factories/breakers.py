"""The breakers: for each rule, how a valid payload is turned into one that breaks it and no other,
and the mistakes SDK users really make (labelled with the rule each trips). Registered in order: the
first breaker of a rule is its canonical case.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.factories.cases import (
    Breaker,
    BreakFunction,
    Broken,
    CaseFactory,
    FactoryError,
    context_of,
    drop_person,
    ensure_anonymous_id,
    moment_of,
    random_id,
    spoil_one_item,
    without,
)
from mockpipe.spec.limits import MAX_CALL_BYTES
from mockpipe.spec.rules import RULES, rule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.factories.data import Channel

_BREAKERS: list[Breaker] = []


def _register(code: str, name: str, description: str, make: BreakFunction, *, mistake: bool = False) -> None:
    rule(code)  # a typo in a code fails at import, not in a test run
    _BREAKERS.append(Breaker(name, code, description, mistake, make))


def _breaks(
    code: str, name: str, description: str, *, mistake: bool = False
) -> Callable[[BreakFunction], BreakFunction]:
    def add(make: BreakFunction) -> BreakFunction:
        _register(code, name, description, make, mistake=mistake)
        return make

    return add


# -- who the call is about -------------------------------------------------------------------------


@_breaks(
    "identity.required",
    "no-person-id",
    "a call sent before the person is known: no userId, no anonymousId",
    mistake=True,
)
def _no_person_id(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    drop_person(call, "userId")
    drop_person(call, "anonymousId")
    call.pop("groupId", None)
    return Broken(call, "track")


_register(
    "alias.previousId.required",
    "alias-without-previous-id",
    "an alias call without previousId",
    without("alias", "previousId"),
)
_register(
    "alias.userId.required",
    "alias-without-user-id",
    "an alias call without the userId to keep",
    without("alias", "userId"),
)
_register(
    "track.event.required",
    "missing-event",
    "a track call without its event name",
    without("track", "event", semantic=False),
    mistake=True,
)
_register(
    "group.groupId.required", "group-without-group-id", "a group call without groupId", without("group", "groupId")
)


# -- types and formats -----------------------------------------------------------------------------


@_breaks("id.type", "user-object-as-user-id", "the whole user object passed as userId")
def _user_object(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    ensure_anonymous_id(factory, call)
    call["userId"] = {"id": call.get("userId") or random_id(factory), "email": factory.faker.free_email()}
    return Broken(call, "track")


@_breaks("id.number", "numeric-user-id", "a numeric userId (a database id passed as a number)", mistake=True)
def _numeric_user_id(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    call["userId"] = factory.faker.random.randint(1, 9_999_999)
    return Broken(call, "identify")


@_breaks("field.type", "traits-as-json-string", "traits serialised to a JSON string before sending", mistake=True)
def _traits_string(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    call["traits"] = orjson.dumps(call.get("traits") or {}).decode()
    return Broken(call, "identify")


@_breaks("context.active.type", "active-as-string", 'context.active sent as the string "true"')
def _active_string(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    context_of(call)["active"] = "true"
    return Broken(call, "identify")


@_breaks("channel.enum", "wrong-channel", 'a wrong channel: "web" instead of "browser"', mistake=True)
def _wrong_channel(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.page(channel=channel, **overrides)
    call["channel"] = "web"
    return Broken(call, "page")


@_breaks(
    "context.device.type.enum",
    "device-type-capitalised",
    'context.device.type written "iOS" or "Android"',
    mistake=True,
)
def _device_type(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.screen(channel=channel, **overrides)
    device = context_of(call).setdefault("device", {})
    device["type"] = {"ios": "iOS", "android": "Android"}.get(device.get("type"), "iPhone")
    return Broken(call, "screen")


@_breaks("context.page.keywords.type", "keywords-as-string", "context.page.keywords as one comma-separated string")
def _keywords_string(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.page(channel=channel, **overrides)
    words = factory.faker.words(factory.faker.random.randint(2, 4))
    context_of(call).setdefault("page", {})["keywords"] = ", ".join(words)
    return Broken(call, "page")


@_breaks(
    "integrations.value.type",
    "integration-flag-as-string",
    'an integration switched off with the string "false"',
    mistake=True,
)
def _integration_string(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    integrations = call.get("integrations")
    call["integrations"] = {**(integrations if isinstance(integrations, dict) else {}), "Mixpanel": "false"}
    return Broken(call, "track")


@_breaks("timestamp.format", "us-date-timestamp", "a timestamp written as a US date, 01/02/2024 03:04:05")
def _us_date(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    call["timestamp"] = moment_of(call).strftime("%m/%d/%Y %H:%M:%S")
    return Broken(call, "track")


@_breaks(
    "timestamp.epoch", "epoch-ms-timestamp", "an epoch-milliseconds timestamp (JavaScript's Date.now())", mistake=True
)
def _epoch_ms(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    call["timestamp"] = int(moment_of(call).timestamp() * 1000)
    return Broken(call, "track")


@_breaks("objectTypeId.format", "object-type-name", 'an object type name ("company") where its id belongs')
def _object_type_name(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.group(channel=channel, **overrides)
    call.pop("objectTypeId", None)
    call.setdefault("traits", {})["object_type_id"] = "company"
    return Broken(call, "group")


@_breaks("objectTypeId.number", "numeric-object-type-id", "object_type_id sent as a number", mistake=True)
def _object_type_number(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.group(channel=channel, **overrides)
    call.pop("objectTypeId", None)
    call.setdefault("traits", {})["object_type_id"] = factory.faker.random.randint(1, 3)
    return Broken(call, "group")


@_breaks(
    "call.too_large", "html-in-properties", "a whole HTML page sent as an event property (over 32 KiB)", mistake=True
)
def _too_large(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
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
def _eu_key(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    key = f"pk_eu_{factory.faker.random.getrandbits(80):020x}"
    call["writeKey"] = key
    return Broken(call, "track", write_key=key, region="us")


# -- semantic events -------------------------------------------------------------------------------


@_breaks(
    "semantic.userId.required", "delete-by-anonymous-id", "User Deleted sent with only an anonymousId", mistake=True
)
def _delete_anonymous(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "User Deleted", **overrides})
    ensure_anonymous_id(factory, call)
    drop_person(call, "userId")
    return Broken(call, "track")


@_breaks(
    "semantic.anonymousId.required",
    "object-deleted-by-user-id",
    "Object Deleted sent with a userId instead of an anonymousId",
)
def _object_deleted_user(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "Object Deleted", **overrides})
    call["userId"] = call.get("anonymousId") or random_id(factory)
    drop_person(call, "anonymousId")
    return Broken(call, "track")


@_breaks(
    "semantic.device.token.required",
    "device-without-token",
    "Device Created or Updated without the push token in context.device.token",
    mistake=True,
)
def _device_without_token(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "Device Created or Updated", **overrides})
    context_of(call).get("device", {}).pop("token", None)
    return Broken(call, "track")


@_breaks(
    "semantic.objectId.required",
    "snake-case-object-id",
    "Relationship Deleted with properties.object_id instead of objectId",
    mistake=True,
)
def _snake_object_id(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, **{"event": "Relationship Deleted", **overrides})
    properties = call.setdefault("properties", {})
    properties["object_id"] = properties.pop("objectId", None) or random_id(factory)
    return Broken(call, "track")


# -- batch envelopes -------------------------------------------------------------------------------


@_breaks("batch.type", "batch-as-object", "one call sent as `batch` instead of a list of calls", mistake=True)
def _batch_object(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    envelope = factory.batch(size=1, channel=channel, **overrides)
    envelope["batch"] = envelope["batch"][0]
    return Broken(envelope, "batch")


@_breaks("batch.empty", "empty-batch", "an empty queue flushed as a batch", mistake=True)
def _batch_empty(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    envelope = factory.batch(size=1, channel=channel, **overrides)
    envelope["batch"] = []
    return Broken(envelope, "batch")


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
    spoil_one_item(_serialise_twice),
    mistake=True,
)
_register(
    "batch.item.type",
    "batch-item-without-type",
    "a batch item without its type (a single-call body copied into a batch)",
    spoil_one_item(_untype),
    mistake=True,
)
_register(
    "batch.item.type",
    "capitalised-type",
    'a batch item typed "Track" instead of "track"',
    spoil_one_item(_capitalise_type),
    mistake=True,
)


# -- lint ------------------------------------------------------------------------------------------


@_breaks(
    "identify.properties",
    "traits-as-properties",
    "identify with the person's attributes in properties instead of traits",
    mistake=True,
)
def _traits_as_properties(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    call["properties"] = call.pop("traits", None) or {"plan": "pro"}
    return Broken(call, "identify")


@_breaks(
    "identify.traits.context_only", "traits-in-context", "identify with traits only in context.traits", mistake=True
)
def _traits_in_context(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.identify(channel=channel, **overrides)
    context_of(call)["traits"] = call.pop("traits", None) or {"plan": "pro"}
    return Broken(call, "identify")


@_breaks("key.typo", "snake-case-user-id", "user_id where userId belongs", mistake=True)
def _snake_user_id(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    ensure_anonymous_id(factory, call)  # without it the call would also be about no one (identity.required)
    call["user_id"] = call.pop("userId", None) or random_id(factory)
    return Broken(call, "track")


_register(
    "screen.name.missing", "screen-without-name", "a screen call without the screen's name", without("screen", "name")
)


@_breaks("type.mismatch", "page-posted-to-screen", "a page call posted to /v1/screen", mistake=True)
def _page_to_screen(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    return Broken(factory.page(channel=channel, **overrides), "screen")


@_breaks(
    "timestamp.epoch", "epoch-seconds-timestamp", "an epoch-seconds timestamp (Python's time.time())", mistake=True
)
def _epoch_seconds(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
    call = factory.track(channel=channel, semantic=False, **overrides)
    call["timestamp"] = round(moment_of(call).timestamp(), 3)
    return Broken(call, "track")


# -- looking breakers up ----------------------------------------------------------------------------


def canonical(code: str) -> Breaker:
    """The first breaker of rule `code`; `UnknownRuleError` for a code not in the catalogue."""
    rule(code)
    for breaker in _BREAKERS:
        if breaker.rule == code:
            return breaker
    raise FactoryError(f"no invalid case breaks rule {code!r} yet: add one to mockpipe/factories/breakers.py")


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
    raise FactoryError(f"no invalid case named {name!r}; {_suggestion(name)}")


def _suggestion(name: str) -> str:
    """The closest rule codes and mistake names to a misspelt one (difflib), else every name known."""
    known = sorted({b.name for b in _BREAKERS} | {b.rule for b in _BREAKERS})
    by_folded = {candidate.lower(): candidate for candidate in known}
    close = difflib.get_close_matches(name.lower(), by_folded, n=3, cutoff=0.6)
    if close:
        return f"did you mean {', '.join(by_folded[found] for found in close)}?"
    return f"known: {', '.join(known)}"


def names() -> list[str]:
    return [breaker.name for breaker in _BREAKERS]
