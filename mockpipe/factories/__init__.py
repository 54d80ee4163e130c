"""Faker-driven Data Pipelines payloads: valid calls of every type, invalid ones per rule, the SDK
mistakes users really make, a Faker provider, and Hypothesis strategies (`mockpipe.factories.strategies`).

    from mockpipe import factories

    factories.track(seed=1)
    factories.invalid("track.event.required")
"""

import importlib
from typing import TYPE_CHECKING, Any

# The names load on first use, from the module that defines them: `mockpipe.factories.data` (the
# command line's `fake` options) then costs no Faker import, which is most of `mockpipe validate`'s start-up.
_LAZY = {
    "EVENTS": "calls",
    "SEMANTIC_EVENT_NAMES": "calls",
    "FactoryError": "cases",
    "InvalidCase": "cases",
    "BASE_TIME": "data",
    "CHANNELS": "data",
    "DROP": "overrides",
    "DEFAULT_SEED": "payloads",
    "DEFAULT_WRITE_KEY": "payloads",
    "PayloadFactory": "payloads",
    "PipelinesProvider": "provider",
    **dict.fromkeys(
        (
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
        ),
        "shortcuts",
    ),
}

if TYPE_CHECKING:
    from mockpipe.factories.calls import EVENTS as EVENTS, SEMANTIC_EVENT_NAMES as SEMANTIC_EVENT_NAMES
    from mockpipe.factories.cases import FactoryError as FactoryError, InvalidCase as InvalidCase
    from mockpipe.factories.data import BASE_TIME as BASE_TIME, CHANNELS as CHANNELS
    from mockpipe.factories.overrides import DROP as DROP
    from mockpipe.factories.payloads import (
        DEFAULT_SEED as DEFAULT_SEED,
        DEFAULT_WRITE_KEY as DEFAULT_WRITE_KEY,
        PayloadFactory as PayloadFactory,
    )
    from mockpipe.factories.provider import PipelinesProvider as PipelinesProvider
    from mockpipe.factories.shortcuts import (
        alias as alias,
        batch as batch,
        default_factory as default_factory,
        group as group,
        identify as identify,
        invalid as invalid,
        invalid_case as invalid_case,
        invalid_cases as invalid_cases,
        mistake_cases as mistake_cases,
        mistakes as mistakes,
        page as page,
        screen as screen,
        track as track,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockpipe.factories' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mockpipe.factories.{module}"), name)
    globals()[name] = value
    return value


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


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
