"""What starting a command costs: `mockpipe validate` loads no web stack, store, client, terminal UI or benchmark."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from mockpipe.cli import COMMAND_MODULES

if TYPE_CHECKING:
    from pathlib import Path

# Top-level packages (and mockpipe's benchmark) that only other commands need.
HEAVY = ("hypercorn", "starlette", "mockpipe.bench", "sqlite3", "rich", "httpx", "faker")


def _imported(*args: str) -> set[str]:
    """The modules a fresh interpreter imports to run `python ARGS`, read from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_validate_loads_no_heavy_module(tmp_path: Path) -> None:
    payload = tmp_path / "one.json"
    payload.write_bytes(b'{"type": "track", "userId": "u1", "event": "Order Completed", "writeKey": "k1"}')
    modules = _imported("-m", "mockpipe", "validate", str(payload))
    assert "mockpipe.spec.validator" in modules  # it did validate
    assert _heavy(modules) == []


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_each_command_module_is_cheap_to_import(name: str) -> None:
    assert _heavy(_imported("-c", f"import mockpipe.cli.{name}")) == []
