"""People and objects as the service would build them from the calls so far: identities merged by
alias and email, traits with their latest values, devices, events, and group relationships."""

from mockpipe.people.model import (
    DEFAULT_OBJECT_TYPE_ID as DEFAULT_OBJECT_TYPE_ID,
    DEFAULT_PAGE_SIZE as DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE as MAX_PAGE_SIZE,
    AmbiguousIdError as AmbiguousIdError,
    Device as Device,
    Event as Event,
    GroupObject as GroupObject,
    Page as Page,
    People as People,
    Person as Person,
    Relationship as Relationship,
)

__all__ = [
    "DEFAULT_OBJECT_TYPE_ID",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AmbiguousIdError",
    "Device",
    "Event",
    "GroupObject",
    "Page",
    "People",
    "Person",
    "Relationship",
]
