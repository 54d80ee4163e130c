"""The plans in force in one emulator: a default plan and optional plans per write key.

Each plan is compiled once into a `PlanChecker` when it is put in force, and kept with where it came
from (a file, a folder, a PUT, a Python object). The registry also counts, per write key, what
arrived against the plan in force for that key (`Coverage`), and reloads a plan read from disk when
its files change (`reload_if_changed`, which the app calls every half second while it runs).

Readers (the ingest path, once per request) take one reference to an immutable snapshot, so a plan
replaced by a PUT or a reload changes the verdicts of the next calls without any lock on the hot
path; writers swap the snapshot under a lock. No web code here.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockpipe.plans.model import Plan, PlanError

if TYPE_CHECKING:  # loaded when a plan is put in force: jsonschema-rs and PyYAML cost an emulator without one
    from mockpipe.plans.check import PlanChecker
    from mockpipe.plans.coverage import Coverage

log = logging.getLogger("mockpipe.plans")

DEFAULT_POLL_SECONDS = 0.5  # how often a plan read from disk is checked for changes
StrPath = str | os.PathLike[str]


@dataclass(frozen=True, slots=True, eq=False)
class PlanInForce:
    """A plan put in force: the plan, its compiled checker, and where it came from.

    `origin` says how it arrived ("file", "folder", "put", "python"); `path` and `format` are those it
    was read with (a file or folder plan reloads from them); `loaded_at` is when it was put in force.
    """

    plan: Plan
    checker: PlanChecker
    origin: str
    path: str | None = None
    format: str | None = None
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))

    def describe(self) -> dict[str, Any]:
        """Where the plan came from, as JSON-ready data."""
        return {
            "origin": self.origin,
            "path": self.path,
            "format": self.plan.source.format,
            "formatForced": self.format,
            "loadedAt": self.loaded_at,
            "rules": len(self.plan.rules),
            "events": len(self.plan.events),
        }


@dataclass(frozen=True, slots=True)
class _Snapshot:
    default: PlanInForce | None
    by_key: Mapping[str, PlanInForce]


_EMPTY = _Snapshot(None, {})


class PlanRegistry:
    """The plans in force: `plan_for(write_key)`, `set`, `load`, `drop`, coverage and reloads."""

    def __init__(self) -> None:
        self._snapshot = _EMPTY
        # Whether any plan is in force: a plain attribute, so a request without a plan pays one attribute test.
        self.active = False
        self._lock = threading.Lock()
        self._coverage: dict[str, tuple[PlanInForce, Coverage]] = {}  # write key -> (plan it was counted on, counts)
        self._stamps: dict[str | None, tuple[tuple[str, int, int], ...]] = {}  # scope -> the files' (path, mtime, size)
        # Processes the requests answered but not processed yet (the journal's backlog), and answers none
        # ahead meanwhile, while a plan changes or coverage is read: each request is checked against the
        # plan in force when it arrived, and counted (`Backlog.paused`).
        self.settled: Callable[[], AbstractContextManager[object]] | None = None

    def _settled(self) -> AbstractContextManager[object]:
        return nullcontext() if self.settled is None else self.settled()

    # -- reading (the hot path) ------------------------------------------------------------------

    def entry_for(self, write_key: str | None) -> PlanInForce | None:
        """The plan in force for calls with this write key: the key's own, else the default."""
        snapshot = self._snapshot
        if write_key is not None and snapshot.by_key:
            found = snapshot.by_key.get(write_key)
            if found is not None:
                return found
        return snapshot.default

    def plan_for(self, write_key: str | None) -> Plan | None:
        """The plan in force for calls with this write key (its own, else the default), or None."""
        entry = self.entry_for(write_key)
        return None if entry is None else entry.plan

    def checker_for(self, write_key: str | None) -> PlanChecker | None:
        entry = self.entry_for(write_key)
        return None if entry is None else entry.checker

    def own(self, write_key: str | None) -> PlanInForce | None:
        """The plan set for exactly this scope: the key's own plan, or the default for None (no fallback)."""
        snapshot = self._snapshot
        return snapshot.default if write_key is None else snapshot.by_key.get(write_key)

    def write_keys(self) -> list[str]:
        """The write keys that have a plan of their own."""
        return sorted(self._snapshot.by_key)

    # -- replacing -------------------------------------------------------------------------------

    def set(
        self,
        plan: Plan,
        *,
        write_key: str | None = None,
        origin: str = "python",
        path: StrPath | None = None,
        format: str | None = None,
    ) -> PlanInForce:
        """Put `plan` in force for `write_key` (None: the default plan); compiled here, once."""
        from mockpipe.plans.check import PlanChecker

        entry = PlanInForce(plan, PlanChecker(plan), origin, None if path is None else str(path), format)
        with self._settled(), self._lock:
            self._swap(write_key, entry)
            if path is None:
                self._stamps.pop(write_key, None)
            else:
                self._stamps[write_key] = _stamps(Path(path))
        return entry

    def load(self, path: StrPath, *, format: str | None = None, write_key: str | None = None) -> PlanInForce:
        """Read a plan file or folder and put it in force; raises `PlanError` (and changes nothing)."""
        from mockpipe.plans.check import PlanChecker
        from mockpipe.plans.load import load_plan

        location = Path(path)
        stamps = _stamps(location)
        plan = load_plan(location, format=format)
        entry = PlanInForce(plan, PlanChecker(plan), "folder" if location.is_dir() else "file", str(location), format)
        with self._settled(), self._lock:
            self._swap(write_key, entry)
            self._stamps[write_key] = stamps
        return entry

    def drop(self, write_key: str | None = None) -> bool:
        """Take the plan of this scope out of force; False when there was none."""
        with self._settled(), self._lock:
            if self.own(write_key) is None:
                return False
            self._swap(write_key, None)
            self._stamps.pop(write_key, None)
            return True

    def _swap(self, write_key: str | None, entry: PlanInForce | None) -> None:
        old = self._snapshot
        if write_key is None:
            self._snapshot = _Snapshot(entry, old.by_key)
        else:
            by_key = dict(old.by_key)
            if entry is None:
                by_key.pop(write_key, None)
            else:
                by_key[write_key] = entry
            self._snapshot = _Snapshot(old.default, by_key)
        self.active = self._snapshot.default is not None or bool(self._snapshot.by_key)

    # -- coverage --------------------------------------------------------------------------------

    def observe(self, entry: PlanInForce, write_key: str, call_type: str, call: Mapping[str, Any]) -> None:
        """Count one call of `write_key`, checked against `entry` (the plan that was in force for it)."""
        self.observe_all(entry, write_key, ((call_type, call),))

    def observe_all(self, entry: PlanInForce, write_key: str, calls: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Count the calls of one request of `write_key`, checked against `entry`."""
        with self._lock:
            kept = self._coverage.get(write_key)
            if kept is None or kept[0] is not entry:
                # A new plan for this key: what was counted carries over onto the new plan's rules.
                from mockpipe.plans.coverage import Coverage

                coverage = Coverage(entry.plan)
                if kept is not None:
                    coverage.merge(kept[1].to_dict())
                kept = self._coverage[write_key] = (entry, coverage)
            observe = kept[1].observe
            for call_type, call in calls:
                observe(call_type, call)

    def coverage(self, write_key: str | None = None) -> Coverage | None:
        """What arrived against a plan: a key's calls against its plan, or (None) every call that the
        default plan checked; None when no plan is in force there."""
        with self._settled():  # what arrived so far is counted
            entry = self.entry_for(write_key) if write_key is not None else self._snapshot.default
        if entry is None:
            return None
        from mockpipe.plans.coverage import Coverage

        total = Coverage(entry.plan)
        with self._lock:
            own_keys = self._snapshot.by_key
            for key, (_, counts) in self._coverage.items():
                if key == write_key or (write_key is None and key not in own_keys):
                    total.merge(counts.to_dict())
        return total

    def clear_coverage(self, write_key: str | None = None) -> None:
        """Forget what arrived (of one key, or of every key)."""
        with self._settled(), self._lock:
            if write_key is None:
                self._coverage.clear()
            else:
                self._coverage.pop(write_key, None)

    # -- reloading from disk ---------------------------------------------------------------------

    @property
    def watched(self) -> bool:
        """Whether some plan in force was read from disk (so `reload_if_changed` has files to look at)."""
        return bool(self._stamps)

    def reload_if_changed(self) -> list[str]:
        """Reload every plan read from disk whose files changed; returns what happened, one line each.

        A plan that no longer reads is reported and the plan in force stays (its stamps are kept as
        they are now, so the same broken state is reported once, and a fix is picked up)."""
        from mockpipe.plans.check import PlanChecker
        from mockpipe.plans.load import load_plan

        told: list[str] = []
        snapshot = self._snapshot
        scopes: list[tuple[str | None, PlanInForce]] = []
        if snapshot.default is not None:
            scopes.append((None, snapshot.default))
        scopes.extend(snapshot.by_key.items())
        for scope, entry in scopes:
            if entry.path is None or scope not in self._stamps:
                continue
            stamps = _stamps(Path(entry.path))
            if stamps == self._stamps.get(scope):
                continue
            where = "default plan" if scope is None else f"plan of write key {scope}"
            try:
                plan = load_plan(entry.path, format=entry.format)
            except (PlanError, OSError) as exc:
                with self._lock:
                    if self.own(scope) is entry:
                        self._stamps[scope] = stamps
                told.append(f"tracking plan {entry.path} changed but cannot be read; the {where} stays: {exc}")
                log.error("%s", told[-1])
                continue
            fresh = PlanInForce(plan, PlanChecker(plan), entry.origin, entry.path, entry.format)
            with self._settled(), self._lock:
                if self.own(scope) is not entry:
                    continue  # replaced meanwhile (a PUT): that one wins
                self._swap(scope, fresh)
                self._stamps[scope] = stamps
            told.append(f"tracking plan reloaded from {entry.path} ({len(plan.rules)} rule(s)) as the {where}")
            log.warning("%s", told[-1])
        return told


def _stamps(location: Path) -> tuple[tuple[str, int, int], ...]:
    """The (path, mtime in ns, size) of a plan file, or of every plan file in a folder."""
    from mockpipe.plans.load import PLAN_SUFFIXES

    try:
        if location.is_dir():
            files = sorted(
                p
                for p in location.rglob("*")
                if p.is_file() and (p.suffix.lower() in PLAN_SUFFIXES or p.parent.name == "jsonschema")
            )
        else:
            files = [location]
        found = []
        for file in files:
            stat = file.stat()
            found.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(found)
    except OSError:
        return ()
