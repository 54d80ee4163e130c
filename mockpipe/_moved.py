"""Old import paths of modules that moved into subpackages: they keep working for one release, with a
DeprecationWarning naming the new path (`import mockpipe.validation` gives `mockpipe.spec.validator`)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

MOVED = {
    "mockpipe.rules": "mockpipe.spec.rules",
    "mockpipe.validation": "mockpipe.spec.validator",
    "mockpipe.enrich": "mockpipe.spec.enrich",
    "mockpipe.wire": "mockpipe.spec.decoding",
    "mockpipe.records": "mockpipe.journal.records",
    "mockpipe.columns": "mockpipe.journal.packed",
    "mockpipe.store": "mockpipe.journal.store",
    "mockpipe.config": "mockpipe.emulator.config",
    "mockpipe.app": "mockpipe.emulator.app",
    "mockpipe.ingest": "mockpipe.emulator.ingest",
    "mockpipe.faults": "mockpipe.emulator.faults",
    "mockpipe.cors": "mockpipe.emulator.cors",
    "mockpipe.server": "mockpipe.emulator.server",
    "mockpipe.inspection": "mockpipe.emulator.inspection",
    "mockpipe.webui": "mockpipe.emulator.webui",
    "mockpipe.live": "mockpipe.emulator.live_feed",
    "mockpipe.recording": "mockpipe.relay.recording",
    "mockpipe.replay": "mockpipe.relay.replay",
    "mockpipe.forward": "mockpipe.relay.forward",
    "mockpipe.strategies": "mockpipe.factories.strategies",
    "mockpipe.assertions": "mockpipe.testing.assertions",
    "mockpipe.snapshot": "mockpipe.testing.snapshot",
}


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a moved module under its old name: the new module itself, after a DeprecationWarning."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; the old path works for one more release", DeprecationWarning, stacklevel=2
        )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the new module was imported by `create_module`."""


def install() -> None:
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
