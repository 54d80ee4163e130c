"""Importing costs what you use: the rules, the journal and the tracking endpoints load no web stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

WEB = ("starlette", "hypercorn")


def loaded_after(code: str) -> set[str]:
    """The top-level packages among `WEB` (and sqlite3) that a fresh interpreter has loaded after `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{name.split('.')[0] for name in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return set(result.stdout.split()) & {*WEB, "sqlite3"}


def test_import_mockpipe_loads_no_web_stack() -> None:
    assert loaded_after("import mockpipe") == set()


def test_the_tracking_endpoints_and_the_fault_rules_load_no_starlette() -> None:
    assert loaded_after("import mockpipe.emulator.ingest, mockpipe.emulator.faults") == set()
    assert loaded_after("import mockpipe.emulator.emulator") == set()


@pytest.mark.parametrize("name", ["FaultError", "Emulator", "ServerConfig"])
def test_the_lazy_names_that_need_no_web_stack_load_none(name: str) -> None:
    assert loaded_after(f"from mockpipe import {name}") == set()


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("MockPipeServer", "mockpipe.emulator.server"),
        ("create_app", "mockpipe.emulator.app"),
        ("FaultError", "mockpipe.emulator.fault_specs"),
        ("StoreError", "mockpipe.journal.store"),
        ("Emulator", "mockpipe.emulator.emulator"),
    ],
)
def test_the_web_parts_stay_importable_from_mockpipe(name: str, module: str) -> None:
    import mockpipe

    assert getattr(mockpipe, name).__module__ == module
    assert name in mockpipe.__all__


def test_fault_error_is_still_found_where_it_was() -> None:
    from mockpipe import FaultError
    from mockpipe.emulator.faults import FaultError as from_faults

    assert from_faults is FaultError and issubclass(FaultError, ValueError)
