"""Faker-driven Data Pipelines payloads: valid calls of every type, invalid ones per rule, the SDK
mistakes users really make, a Faker provider, and Hypothesis strategies (`mockpipe.factories.strategies`).

    from mockpipe import factories

    factories.track(seed=1)
    factories.invalid("track.event.required")
"""

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
