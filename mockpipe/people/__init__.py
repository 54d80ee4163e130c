"""People and objects as the service would build them from the calls so far: identities merged by
alias and email, traits with their latest values, devices, events, and group relationships."""

import warnings
from typing import Any

from mockpipe.people.model import AmbiguousIdError as AmbiguousIdError, People as People
from mockpipe.people.paging import DEFAULT_PAGE_SIZE as DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE as MAX_PAGE_SIZE, Page as Page
from mockpipe.people.records import (
    DEFAULT_OBJECT_TYPE_ID as DEFAULT_OBJECT_TYPE_ID,
    Event as Event,
    GroupObject as GroupObject,
    Person as Person,
    PersonDevice as PersonDevice,
    Relationship as Relationship,
)

__all__ = [
    "DEFAULT_OBJECT_TYPE_ID",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AmbiguousIdError",
    "Event",
    "GroupObject",
    "Page",
    "People",
    "Person",
    "PersonDevice",
    "Relationship",
]


def __getattr__(name: str) -> Any:
    # `Device` was this record's name until the factories' phone models had the same one.
    if name == "Device":
        warnings.warn(
            "mockpipe.people.Device is now mockpipe.people.PersonDevice; the old name works for one more release",
            DeprecationWarning,
            stacklevel=2,
        )
        return PersonDevice
    raise AttributeError(f"module 'mockpipe.people' has no attribute {name!r}")
