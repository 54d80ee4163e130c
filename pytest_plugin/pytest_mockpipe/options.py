"""The plugin's command-line and ini options, and their defaults (no mockpipe import: pytest loads
this plugin in every session, also those that never start a server)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_TIMEOUT = 5.0  # seconds an assertion waits for calls to arrive (ini: mockpipe_timeout)
DEFAULT_GRACE = 0.5  # seconds assert_no_calls watches for late calls: a Python SDK's flush interval
DEFAULT_RECORD_DIRECTORY = "recordings"
CONTRACT_FAIL_ON = ("any", "breaking", "never")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockpipe", "mockpipe (Customer.io Data Pipelines emulator)")
    group.addoption(
        "--mockpipe-strict",
        action="store_true",
        default=False,
        help="answer every call strictly, as with X-Strict-Mode: 1 (400 for spec violations)",
    )
    # DIR may be left out (then `recordings/`). A test path written right after the option would be
    # taken for DIR: check_options refuses that before any test runs, naming the fix.
    group.addoption(
        "--mockpipe-record",
        metavar="DIR",
        nargs="?",
        const=DEFAULT_RECORD_DIRECTORY,
        default=None,
        help="write the calls of each failed test as JSON lines into DIR (default "
        f"{DEFAULT_RECORD_DIRECTORY}/), relative to the rootdir, one file per test",
    )
    group.addoption(
        "--mockpipe-contract",
        metavar="PATH",
        default=None,
        help="compare the contract of everything the tests sent with the file PATH (written if missing); "
        "a different contract fails the session (ini: mockpipe_contract)",
    )
    group.addoption(
        "--mockpipe-contract-update",
        action="store_true",
        default=False,
        help="write the contract file even when it differs (accepting the changes)",
    )
    group.addoption(
        "--mockpipe-contract-sources",
        action="store_true",
        default=False,
        help="write which tests sent each event into the contract file (left out by default: it churns)",
    )
    group.addoption(
        "--mockpipe-contract-fail-on",
        choices=CONTRACT_FAIL_ON,
        default="any",
        help="which contract changes fail the session: any (default), breaking, never",
    )
    parser.addini("mockpipe_contract", default=None, help="the contract file, as --mockpipe-contract")
    group.addoption(
        "--mockpipe-plan",
        metavar="PATH",
        default=None,
        help="check every call of the servers the plugin starts against this tracking plan (a file or a "
        "folder, any importable format) and print its coverage (ini: mockpipe_plan)",
    )
    group.addoption(
        "--mockpipe-plan-format",
        metavar="FORMAT",
        default=None,
        help="read the plan as this format instead of detecting it (mockpipe, segment, segment-rules, "
        "rudderstack, jsonschema)",
    )
    group.addoption(
        "--mockpipe-plan-fail-under",
        metavar="PCT",
        type=_percent,
        default=None,
        help="fail the session when the tests sent less than PCT%% of the plan's events",
    )
    parser.addini(
        "mockpipe_plan",
        default=None,
        help="the tracking plan every call is checked against, relative to the ini file (as --mockpipe-plan)",
    )
    parser.addini(
        "mockpipe_timeout",
        type="float",
        default=DEFAULT_TIMEOUT,
        help=f"seconds mockpipe's assertions wait for calls to arrive (default {DEFAULT_TIMEOUT})",
    )
    parser.addini(
        "mockpipe_grace",
        type="float",
        default=DEFAULT_GRACE,
        help=f"seconds assert_no_calls watches for late calls (default {DEFAULT_GRACE})",
    )
    parser.addini(
        "mockpipe_snapshot_ids",
        type="args",
        default=[],
        help="app ids that mockpipe_snapshot writes as numbered references: key names (userId) or "
        "dotted paths (properties.order_id), separated by spaces",
    )


def _percent(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a percentage from 0 to 100, not {text}")
    return value


def plan_path(config: pytest.Config) -> Path | None:
    """The plan of `--mockpipe-plan` (relative to where pytest runs) or of ini `mockpipe_plan` (relative
    to the ini file), or None."""
    given: str | None = config.getoption("mockpipe_plan")
    if given:
        return Path(config.invocation_params.dir, given)
    in_ini = config.getini("mockpipe_plan")
    if in_ini:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return Path(base, str(in_ini))
    return None


def record_directory(config: pytest.Config) -> Path | None:
    """Where `--mockpipe-record` writes, or None without it (the rootdir holds a relative DIR)."""
    value: str | None = config.getoption("mockpipe_record")
    return None if value is None else Path(config.rootpath, value)


def contract_path(config: pytest.Config) -> Path | None:
    """The contract file (`--mockpipe-contract`, else ini `mockpipe_contract`), relative to the rootdir; or None."""
    value: str | None = config.getoption("mockpipe_contract") or config.getini("mockpipe_contract") or None
    return None if value is None else Path(config.rootpath, value)


def check_options(config: pytest.Config) -> None:
    """Refuse, before any test runs, a `--mockpipe-record` DIR that is a test path or a file.

    Raises `pytest.UsageError`: finding out at the first failed test's teardown would be too late.
    """
    value: str | None = config.getoption("mockpipe_record")
    if value is None:
        return
    example = f"--mockpipe-record {DEFAULT_RECORD_DIRECTORY}"
    if not value.strip():
        raise pytest.UsageError(f"--mockpipe-record needs a directory, e.g. {example}")
    if value.endswith(".py") or "::" in value:
        raise pytest.UsageError(
            f"--mockpipe-record takes a directory, not the test path {value!r}: "
            f"give the directory first, e.g. {example} {value}, or write "
            f"--mockpipe-record={DEFAULT_RECORD_DIRECTORY}"
        )
    # Written relative to the rootdir, but typed relative to where pytest runs: neither may be a file,
    # nor a directory of tests (`pytest --mockpipe-record tests/` took tests/ for DIR and wrote into it).
    for path in (Path(config.rootpath, value), Path(config.invocation_params.dir, value)):
        if path.exists() and not path.is_dir():
            raise pytest.UsageError(
                f"--mockpipe-record takes a directory, but {path} is a file: give a directory, e.g. {example}"
            )
        found = find_test_file(path) if path.is_dir() else None
        if found is not None:
            raise pytest.UsageError(
                f"--mockpipe-record takes a directory for recordings, not the test directory {value!r} "
                f"(it holds {found.relative_to(path)}): give the directory first, e.g. {example} {value}, "
                f"or write --mockpipe-record={DEFAULT_RECORD_DIRECTORY}"
            )


def check_port_under_xdist(config: pytest.Config) -> None:
    """Refuse a fixed `MOCKPIPE_PORT` when pytest-xdist starts several workers.

    Each worker starts its own session server, and only the first can bind the port: the others'
    tests all failed with "Address already in use". Checked in the controller, before any worker starts.
    """
    port = os.environ.get("MOCKPIPE_PORT", "").strip()
    workers = config.getoption("numprocesses", None)  # pytest-xdist's -n; "auto" is a number by now
    if not port or port == "0" or hasattr(config, "workerinput") or not isinstance(workers, int) or workers < 2:
        return
    raise pytest.UsageError(
        f"MOCKPIPE_PORT={port} is a fixed port, but pytest-xdist (-n {workers}) starts {workers} workers, each "
        "with its own mockpipe server, and only one can listen on that port. Either leave MOCKPIPE_PORT unset "
        "(each worker then takes a free port; the fixture gives its URL), run without -n, or give each worker "
        "its own port: override the mockpipe_listen_address fixture in conftest.py using the worker_id fixture "
        "(e.g. a base port of your own variable + the worker's number)."
    )


def find_test_file(directory: Path, depth: int = 2) -> Path | None:
    """A test module or conftest.py in `directory` or its subdirectories, `depth` levels down, else None.

    Recordings directories hold .jsonl files only; the walk is bounded so that a large tree stays cheap.
    """
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return None
    for entry in entries:
        name = entry.name
        if entry.suffix == ".py" and (name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")):
            return entry
    if depth > 1:
        for entry in entries:
            if entry.is_dir() and not entry.name.startswith("."):
                found = find_test_file(entry, depth - 1)
                if found is not None:
                    return found
    return None
