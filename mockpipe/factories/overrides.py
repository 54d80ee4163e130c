"""Overrides of factory payloads: deep-merged into the built call, with `DROP` to remove a field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mockpipe.types import JSONObject


class _Drop:
    """The type of `DROP`."""

    _instance: _Drop | None = None

    def __new__(cls) -> _Drop:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DROP"


DROP: Final = _Drop()
"""An override value that removes the field: `track(anonymousId=DROP, context={"ip": DROP})`."""


def merge_overrides(base: JSONObject, overrides: Mapping[str, Any]) -> JSONObject:
    """Deep-merge `overrides` into `base` in place: objects merge, other values replace, DROP removes."""
    for key, value in overrides.items():
        if value is DROP:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge_overrides(base[key], value)
        else:
            base[key] = copy_json(value)
    return base


def copy_json(value: Any) -> Any:
    """A copy of JSON-like data, without the DROP markers (they only mean something in a merge)."""
    if isinstance(value, Mapping):
        return {key: copy_json(item) for key, item in value.items() if item is not DROP}
    if isinstance(value, list | tuple):
        return [copy_json(item) for item in value if item is not DROP]
    return value
