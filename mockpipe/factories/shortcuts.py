"""The module functions of `mockpipe.factories` (`factories.track(seed=1)`, ...): one shared factory,
created seeded with `DEFAULT_SEED` when first used, so reproducible per process but not thread-safe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockpipe.factories.payloads import DEFAULT_SEED, PayloadFactory

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from _pytest.mark import ParameterSet

    from mockpipe.factories.cases import InvalidCase
    from mockpipe.factories.data import Channel
    from mockpipe.types import JSONObject

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
