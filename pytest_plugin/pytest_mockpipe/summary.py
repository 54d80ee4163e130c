"""Warnings of the calls tests sent, gathered from test reports and shown in the terminal summary.

Workers of pytest-xdist run the tests but the controller prints the summary, so each test's
warnings travel in its teardown report's `user_properties`, which xdist carries over.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

    from mockpipe.spec.rules import Violation

USER_PROPERTY = "mockpipe_warnings"
MAX_LINES = 50


def as_user_property(warnings: Sequence[Violation]) -> tuple[str, str]:
    """The (name, value) to append to `item.user_properties` (a string value: junitxml writes it too)."""
    return USER_PROPERTY, json.dumps([[v.code, v.path, v.message] for v in warnings])


class WarningsSummary:
    """A plugin object: collects the warnings from every test report, then prints them once."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str, str, str]] = []  # nodeid, code, path, message

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == USER_PROPERTY:
                self.found.extend((report.nodeid, *entry) for entry in _entries(value))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.found:
            return
        tests = len({nodeid for nodeid, *_ in self.found})
        terminalreporter.section("mockpipe warnings", sep="=", yellow=True)
        terminalreporter.line(
            f"{len(self.found)} spec warning(s) in the calls of {tests} test(s); "
            "production accepts these calls, but they are probably mistakes:"
        )
        current = None
        for shown, (nodeid, code, path, message) in enumerate(self.found):
            if shown == MAX_LINES:
                terminalreporter.line(f"... and {len(self.found) - MAX_LINES} more")
                break
            if nodeid != current:
                terminalreporter.line(nodeid)
                current = nodeid
            terminalreporter.line(f"  {code} at {path}: {message}")


def _entries(value: Any) -> list[tuple[str, str, str]]:
    try:
        entries = json.loads(value)
    except (TypeError, ValueError):  # someone else's property of the same name
        return []
    return [(str(code), str(path), str(message)) for code, path, message in entries]
