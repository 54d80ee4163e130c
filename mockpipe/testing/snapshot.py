"""Snapshots of calls: readable, key-sorted JSON in which volatile values become numbered references.

`References` rewrites a value before it is serialised. Identifiers (messageId, anonymousId, the write
key, the journal's call and request ids) and SDK versions become `<messageId:1>`, `<messageId:2>`...:
numbered in order of appearance, so a value seen twice gets the same reference (an alias's
`previousId` that is the earlier `anonymousId` reads `<anonymousId:1>` in both places) and a broken
link shows in the diff. Times (timestamp, sentAt, receivedAt...) become `<timestamp>`, `<sentAt>`...
without a number by default: clocks tick in milliseconds, so two calls made in the same millisecond
would share a number in one run and not in the next. Set `link_times = True` on a subclass when the
clock is frozen. A time that does not parse is kept as it is, so a format regression shows.

The app's own ids (a random `userId`, `properties.order_id`) are made references by naming them, no
subclass needed: `References(ids=["userId", "properties.order_id"])`. A bare name matches that key
anywhere; a dotted path matches keys at the end of that path (`properties.order_id` also inside a
record's `payload`). Their values become `<userId:1>`, `<order_id:1>`... and are linked like the
built-in ids. The plugin reads the names from the ini option `mockpipe_snapshot_ids`, and
`snapshot_ids(...)` adds names for one assertion: `== mockpipe_snapshot(matcher=snapshot_ids("cart"))`.

`MockpipeSnapshotExtension` is the syrupy extension (the `mockpipe_snapshot` fixture uses it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from syrupy.extensions.json import JSONSnapshotExtension

from mockpipe.journal.journal import Call, RequestRecord
from mockpipe.spec.times import parse_timestamp

if TYPE_CHECKING:
    from syrupy.types import PropertyFilter, PropertyMatcher, PropertyPath, SerializableData, SerializedData

# The fixture's write keys: `mockpipe_` and 16 hex digits (see pytest_mockpipe.fixture.new_write_key).
WRITE_KEY_PATTERN = re.compile(r"mockpipe_[0-9a-f]{16}")


class References:
    """Replaces the volatile values of one snapshot with numbered references (one instance per snapshot)."""

    # Key name -> reference name, wherever the key appears. Their values are also replaced wherever
    # else they turn up (a `previousId` holding an earlier `anonymousId`).
    ID_KEYS: ClassVar[Mapping[str, str]] = {
        "messageId": "messageId",
        "anonymousId": "anonymousId",
        "writeKey": "writeKey",
    }
    # Keys holding ISO-8601 times.
    TIME_KEYS: ClassVar[frozenset[str]] = frozenset(
        (
            "timestamp",
            "originalTimestamp",
            "sentAt",
            "receivedAt",
            "firstReceivedAt",
            "lastReceivedAt",
        )
    )
    link_times: ClassVar[bool] = False

    def __init__(self, ids: Iterable[str] = (), *, builtin: bool = True) -> None:
        self._builtin = builtin  # False: only the app ids (a second pass over referenced data)
        self._refs: dict[tuple[str, Any], str] = {}
        self._counts: dict[str, int] = {}
        self._linked: dict[str, str] = {}  # id value -> its reference, for replacement anywhere
        # The app's ids, as key paths (a bare key name is a path of one).
        self._id_paths = tuple(tuple(name.split(".")) for name in dict.fromkeys(ids) if name.strip("."))

    def _app_id(self, key: str, path: tuple[str, ...]) -> str | None:
        """The reference name for an app id named in `ids` (its last key), or None."""
        full = (*path, key)
        for id_path in self._id_paths:
            if full[-len(id_path) :] == id_path:
                return id_path[-1]
        return None

    def ref(self, name: str, value: Any) -> str:
        """The reference of `value` among those named `name`: the same value always gets the same one."""
        found = self._refs.get((name, value))
        if found is None:
            self._counts[name] = number = self._counts.get(name, 0) + 1
            found = self._refs[(name, value)] = f"<{name}:{number}>"
        return found

    def apply(self, data: Any) -> Any:
        """A copy of `data` (plain JSON-like values, records of the journal) with references in place."""
        plain = self._plain(data)
        self._collect(plain, ())
        return self._replace(plain, ())

    # -- records to plain values ---------------------------------------------------------------

    def _plain(self, data: Any) -> Any:
        if isinstance(data, Call):
            record = data.to_dict()
            record["id"] = self.ref("callId", data.id)
            record["requestId"] = self.ref("requestId", data.request_id)
            if data.duplicate_of is not None:
                record["duplicateOf"] = self.ref("callId", data.duplicate_of)
            return record
        if isinstance(data, RequestRecord):
            record = data.to_dict()
            record["id"] = self.ref("requestId", data.id)
            record["callIds"] = [self.ref("callId", call_id) for call_id in data.call_ids]
            return record
        if isinstance(data, Mapping):
            return {key: self._plain(value) for key, value in data.items()}
        if isinstance(data, list | tuple) and not hasattr(data, "_fields"):
            return [self._plain(value) for value in data]
        to_dict = getattr(data, "to_dict", None)
        if callable(to_dict):  # Violation, SourceStatus
            return self._plain(to_dict())
        return data

    # -- two passes: number the volatile values in reading order, then replace ----------------

    def _volatile(self, key: str, value: Any, path: tuple[str, ...]) -> str | None:
        """The reference for `value` under `key`, or None when it is not volatile."""
        app_id = self._app_id(key, path)
        if app_id is not None and isinstance(value, int) and not isinstance(value, bool):
            return self.ref(app_id, value)  # numeric order ids too (linked only as strings)
        if not isinstance(value, str) or not value:
            return None
        name = self.ID_KEYS.get(key) if self._builtin else None
        if name is not None or app_id is not None:
            return self.ref(name or str(app_id), value)
        if not self._builtin:
            return None
        if key in self.TIME_KEYS:
            if parse_timestamp(value) is None:
                return None
            return self.ref("timestamp", value) if self.link_times else f"<{key}>"
        if key == "version" and path[-2:] == ("context", "library"):
            return self.ref("version", value)
        if "_metadata" in path and key.lower().endswith("version"):
            return self.ref(key, value)
        return None

    def _collect(self, data: Any, path: tuple[str, ...]) -> None:
        if isinstance(data, dict):
            for key in sorted(data, key=str):
                value = data[key]
                found = self._volatile(str(key), value, path)
                if found is not None:
                    if isinstance(value, str) and (key in self.ID_KEYS or self._app_id(str(key), path) is not None):
                        self._linked.setdefault(value, found)
                else:
                    self._collect(value, (*path, str(key)))
        elif isinstance(data, list):
            for value in data:
                self._collect(value, path)
        elif isinstance(data, str) and self._builtin:
            for match in WRITE_KEY_PATTERN.finditer(data):
                self.ref("writeKey", match.group())

    def _replace(self, data: Any, path: tuple[str, ...]) -> Any:
        if isinstance(data, dict):
            replaced = {}
            for key, value in data.items():
                found = self._volatile(str(key), value, path)
                replaced[key] = found if found is not None else self._replace(value, (*path, str(key)))
            return replaced
        if isinstance(data, list):
            return [self._replace(value, path) for value in data]
        if isinstance(data, str):
            linked = self._linked.get(data)
            if linked is not None:
                return linked
            if self._builtin:
                return WRITE_KEY_PATTERN.sub(lambda match: self.ref("writeKey", match.group()), data)
        return data


@dataclass(frozen=True)
class SnapshotIds:
    """A syrupy matcher naming more app ids for one assertion (see `snapshot_ids`); wraps `matcher`."""

    ids: tuple[str, ...]
    matcher: PropertyMatcher | None = None

    def __call__(self, *, data: SerializableData, path: PropertyPath) -> SerializableData | None:
        # syrupy calls a matcher on the whole snapshot first (path ()), already referenced by the extension.
        if not path:
            data = References(self.ids, builtin=False).apply(data)
        return data if self.matcher is None else self.matcher(data=data, path=path)


def snapshot_ids(*ids: str, matcher: PropertyMatcher | None = None) -> SnapshotIds:
    """Make these ids references in one snapshot: `assert x == mockpipe_snapshot(matcher=snapshot_ids("cartId"))`.

    Names as in `mockpipe_snapshot_ids` (key names or dotted paths), added to the ini's. `matcher`, a
    syrupy matcher of your own, still applies.
    """
    return SnapshotIds(ids, matcher)


class MockpipeSnapshotExtension(JSONSnapshotExtension):
    """syrupy's JSON extension (keys sorted, indented, one file per snapshot) with `References` applied.

    `ids` (the ini option `mockpipe_snapshot_ids`: see `with_ids`) are app ids made references. Subclass
    it and set `references` to a subclass of `References` to change what else is volatile.
    """

    references: ClassVar[type[References]] = References
    ids: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def with_ids(cls, ids: Iterable[str]) -> type[MockpipeSnapshotExtension]:
        """This extension with `ids` as app ids (syrupy takes extension classes, not instances)."""
        names = tuple(ids)
        if not names:
            return cls
        return type(cls.__name__, (cls,), {"ids": names, "__module__": cls.__module__})

    def serialize(
        self,
        data: SerializableData,
        *,
        exclude: PropertyFilter | None = None,
        include: PropertyFilter | None = None,
        matcher: PropertyMatcher | None = None,
    ) -> SerializedData:
        references = self.references(ids=self.ids)
        return super().serialize(references.apply(data), exclude=exclude, include=include, matcher=matcher)
