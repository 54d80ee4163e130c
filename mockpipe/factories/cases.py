"""Invalid cases: what a case is (`InvalidCase`), what a breaker is and returns, how a case is built
and checked, and the building blocks of the breakers (the breakers themselves are in `breakers`).

The rules themselves live in `mockpipe.spec.rules` and are checked by `mockpipe.spec.validator`; nothing here
re-states them. Every case is checked against `validate` when it is built: it must be flagged with
its rule and nothing else, or building it raises `FactoryError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from mockpipe.errors import MockpipeError
from mockpipe.spec.rules import RULES, Violation
from mockpipe.spec.times import parse_timestamp
from mockpipe.spec.validator import validate

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from faker import Faker

    from mockpipe.factories.data import Channel
    from mockpipe.types import JSONObject, Severity


class FactoryError(MockpipeError, ValueError):
    """A factory was asked for something it cannot build (an unknown channel, a case its overrides undo)."""


class CaseFactory(Protocol):
    """What a breaker needs of a factory (`CaseFactory` is one): valid calls to break, and its Faker."""

    faker: Faker

    def call(self, call_type: str, *, channel: Channel | None = None, **overrides: Any) -> JSONObject: ...

    def identify(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject: ...

    def track(
        self, *, channel: Channel | None = None, semantic: bool | None = None, **overrides: Any
    ) -> JSONObject: ...

    def page(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject: ...

    def screen(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject: ...

    def group(self, *, channel: Channel | None = None, **overrides: Any) -> JSONObject: ...

    def batch(
        self,
        calls: Iterable[Mapping[str, Any]] | None = None,
        *,
        size: int | None = None,
        types: Sequence[str] | None = None,
        channel: Channel | None = None,
        **overrides: Any,
    ) -> JSONObject: ...


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


BreakFunction = Callable[["CaseFactory", "Channel | None", "Mapping[str, Any]"], Broken]


@dataclass(frozen=True, slots=True)
class Breaker:
    name: str
    rule: str
    description: str
    mistake: bool
    make: BreakFunction


def build(factory: CaseFactory, breaker: Breaker, channel: Channel | None, overrides: Mapping[str, Any]) -> InvalidCase:
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


def ensure_anonymous_id(factory: CaseFactory, payload: JSONObject) -> None:
    """Give the call an anonymousId, so that removing or spoiling userId leaves it about someone."""
    if not isinstance(payload.get("anonymousId"), str) or not payload["anonymousId"]:
        payload["anonymousId"] = random_id(factory)


def random_id(factory: CaseFactory) -> str:
    return f"{factory.faker.random.getrandbits(64):016x}"


def context_of(payload: JSONObject) -> JSONObject:
    context = payload.setdefault("context", {})
    assert isinstance(context, dict)  # the factories always build an object
    return context


def moment_of(payload: JSONObject) -> datetime:
    stamp = payload.get("timestamp")
    parsed = parse_timestamp(stamp) if isinstance(stamp, str) else None
    return parsed or datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def drop_person(payload: JSONObject, key: str) -> None:
    """Remove an id as the SDK would leave it out: the Python clients send null, the others nothing."""
    if key in payload and payload.get("context", {}).get("library", {}).get("name") == "analytics-python":
        payload[key] = None
    else:
        payload.pop(key, None)


def without(call_type: str, field: str, **options: Any) -> BreakFunction:
    """A breaker that leaves `field` out of a valid call of `call_type`."""

    def make(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
        call = factory.call(call_type, channel=channel, **options, **overrides)
        call.pop(field, None)
        return Broken(call, call_type)

    return make


def spoil_one_item(spoil: Callable[[list[Any], int], None]) -> BreakFunction:
    """A breaker that spoils one item, at random, of a valid batch of 2 to 4 calls."""

    def make(factory: CaseFactory, channel: Channel | None, overrides: Mapping[str, Any]) -> Broken:
        rnd = factory.faker.random
        envelope = factory.batch(size=rnd.randint(2, 4), channel=channel, **overrides)
        spoil(envelope["batch"], rnd.randrange(len(envelope["batch"])))
        return Broken(envelope, "batch")

    return make
