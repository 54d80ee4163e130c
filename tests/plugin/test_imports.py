"""The plugin imports mockpipe by the new module paths only: an old one would warn in every user's session."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest_mockpipe

from mockpipe._moved import MOVED

PLUGIN_DIR = Path(pytest_mockpipe.__file__).parent


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """Each module `path` imports (at any depth, under TYPE_CHECKING too) and the names taken from it."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_every_plugin_import_of_mockpipe_is_a_module_that_did_not_move() -> None:
    checked = 0
    for path in sorted(PLUGIN_DIR.glob("*.py")):
        for module, names in imports_of(path):
            if not module.startswith("mockpipe"):
                continue
            assert module not in MOVED, f"{path.name} imports {module}: use {MOVED[module]}"
            spec = importlib.util.find_spec(module)
            assert spec is not None and spec.origin is not None, f"{path.name} imports {module}, which does not exist"
            imported = importlib.import_module(module)
            missing = [name for name in names if not hasattr(imported, name)]
            assert not missing, f"{path.name} imports {missing} from {module}, which has no such name"
            checked += 1
    assert checked >= 10  # the walk saw the plugin's imports (fixture, plugin, recording, servers, ...)


def test_the_snapshot_extension_comes_from_mockpipe_testing() -> None:
    plugin_imports = imports_of(PLUGIN_DIR / "plugin.py")
    assert ("mockpipe.testing.snapshot", ["MockpipeSnapshotExtension"]) in plugin_imports
