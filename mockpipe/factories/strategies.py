"""Hypothesis strategies for Data Pipelines payloads, built on the factories (needs `hypothesis`).

    from hypothesis import given
    from mockpipe.factories import strategies

    @given(strategies.payloads("track", channel="mobile"))
    def test_my_handler(payload): ...

Each example is the factory's payload for a drawn seed (and call type and channel when not fixed), so a
failing example is reproducible with `factories.PayloadFactory(seed=...)`; Hypothesis shrinks it
toward seed 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from mockpipe.factories.cases import InvalidCase
from mockpipe.factories.data import CHANNELS
from mockpipe.factories.payloads import PayloadFactory
from mockpipe.spec.rules import RULES
from mockpipe.types import CALL_TYPES, JSONObject

if TYPE_CHECKING:
    from collections.abc import Callable

    from mockpipe.factories.data import Channel

__all__ = ["alias", "batches", "group", "identify", "invalid_cases", "page", "payloads", "screen", "seeds", "track"]

_factory: PayloadFactory | None = None


def _shared() -> PayloadFactory:
    # One Faker for all examples: making one costs ~25 ms, re-seeding it a few microseconds.
    global _factory
    if _factory is None:
        _factory = PayloadFactory()
    return _factory


def seeds() -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=2**32 - 1)


def _channels(channel: Channel | None) -> st.SearchStrategy[Channel]:
    return st.just(channel) if channel is not None else st.sampled_from(CHANNELS)


def payloads(
    call_type: str | None = None, *, channel: Channel | None = None, **overrides: Any
) -> st.SearchStrategy[JSONObject]:
    """Valid single calls: of `call_type` (any type when None), shaped for `channel` (any when None)."""
    types = st.just(call_type) if call_type is not None else st.sampled_from(CALL_TYPES)

    def make(kind: str, shape: Channel, seed: int) -> JSONObject:
        return _shared().seed(seed).call(kind, channel=shape, **overrides)

    return st.builds(make, types, _channels(channel), seeds())


def _of_type(call_type: str) -> Callable[..., st.SearchStrategy[JSONObject]]:
    def strategy(*, channel: Channel | None = None, **overrides: Any) -> st.SearchStrategy[JSONObject]:
        return payloads(call_type, channel=channel, **overrides)

    strategy.__name__ = strategy.__qualname__ = call_type
    strategy.__doc__ = f"Valid {call_type} calls (see `payloads`)."
    return strategy


identify = _of_type("identify")
track = _of_type("track")
page = _of_type("page")
screen = _of_type("screen")
group = _of_type("group")
alias = _of_type("alias")


def batches(
    *, channel: Channel | None = None, min_size: int = 1, max_size: int = 10, **overrides: Any
) -> st.SearchStrategy[JSONObject]:
    """Valid batch envelopes of `min_size` (at least 1) to `max_size` calls of one session; a few hundred
    calls fill a request (see `PayloadFactory.batch`)."""
    if not 1 <= min_size <= max_size:
        raise ValueError(f"batches need 1 <= min_size <= max_size; got {min_size} and {max_size}")

    def make(shape: Channel, size: int, seed: int) -> JSONObject:
        return _shared().seed(seed).batch(size=size, channel=shape, **overrides)

    return st.builds(make, _channels(channel), st.integers(min_value=min_size, max_value=max_size), seeds())


def invalid_cases(rule_code: str | None = None, *, channel: Channel | None = None) -> st.SearchStrategy[InvalidCase]:
    """`InvalidCase`s of `rule_code` (of any rule of the catalogue when None)."""
    codes = st.just(rule_code) if rule_code is not None else st.sampled_from(list(RULES))

    def make(code: str, shape: Channel, seed: int) -> InvalidCase:
        return _shared().seed(seed).invalid_case(code, channel=shape)

    return st.builds(make, codes, _channels(channel), seeds())
