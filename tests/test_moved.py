"""Old import paths of modules that moved into subpackages keep working for one release, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest

from mockpipe._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_warns_and_gives_the_new_module(old: str) -> None:
    sys.modules.pop(old, None)
    with pytest.deprecated_call(match=f"{old} moved to {MOVED[old]}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert module.__spec__ is not None and module.__spec__.name == MOVED[old]  # its own spec, kept
    sys.modules.pop(old, None)  # the next test (or user) is warned again


def test_names_the_readme_documented_still_import_from_their_old_paths() -> None:
    with pytest.deprecated_call():
        # The statement the README documented; the module exists only through mockpipe._moved's finder.
        from mockpipe.snapshot import MockpipeSnapshotExtension  # type: ignore[import-not-found]

        from mockpipe.testing.snapshot import MockpipeSnapshotExtension as moved

    assert MockpipeSnapshotExtension is moved
