"""Old import paths of modules that moved into subpackages: they keep working for one release, with a
DeprecationWarning naming the new path (`import mockpipe.validation` gives `mockpipe.spec.validator`)."""

from __future__ import annotations

import importlib
import importlib.machinery
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


class MovedModuleFinder:
    """Finds a moved module under its old name: the new module itself, after a DeprecationWarning.

    A meta path finder and loader by their protocols (importlib.abc would cost `import mockpipe` 10 ms)."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)  # type: ignore[arg-type]  # a Loader by protocol

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; the old path works for one more release", DeprecationWarning, stacklevel=2
        )
        module = importlib.import_module(new)
        # The import system sets `__spec__` to the old name's spec after this: exec_module puts it back.
        self._specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (the new module was imported by `create_module`): its own spec goes back."""
        module.__spec__ = self._specs.pop(module.__name__, module.__spec__)


def install() -> None:
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
