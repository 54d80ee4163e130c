"""The plugin's command-line and ini options, and their defaults (no mockpipe import: pytest loads
this plugin in every session, also those that never start a server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

DEFAULT_TIMEOUT = 5.0  # seconds an assertion waits for calls to arrive (ini: mockpipe_timeout)
DEFAULT_GRACE = 0.5  # seconds assert_no_calls watches for late calls: a Python SDK's flush interval
DEFAULT_RECORD_DIRECTORY = "recordings"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockpipe", "mockpipe (Customer.io Data Pipelines emulator)")
    group.addoption("--mockpipe-strict", action="store_true", default=False,
                    help="answer every call strictly, as with X-Strict-Mode: 1 (400 for spec violations)")
    group.addoption("--mockpipe-record", metavar="DIR", nargs="?", const=DEFAULT_RECORD_DIRECTORY, default=None,
                    help="write the calls of each failed test as JSON lines into DIR "
                         f"(default {DEFAULT_RECORD_DIRECTORY}/), one file per test; write --mockpipe-record=DIR")
    parser.addini("mockpipe_timeout", type="float", default=DEFAULT_TIMEOUT,
                  help=f"seconds mockpipe's assertions wait for calls to arrive (default {DEFAULT_TIMEOUT})")
    parser.addini("mockpipe_grace", type="float", default=DEFAULT_GRACE,
                  help=f"seconds assert_no_calls watches for late calls (default {DEFAULT_GRACE})")
