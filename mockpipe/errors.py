"""Exceptions raised by mockpipe's Python API."""

from __future__ import annotations

from typing import Any


class MockpipeError(Exception):
    """Base class of every mockpipe error."""


class ServerError(MockpipeError):
    """The server could not be started or stopped, or was used in the wrong state."""


class CallAssertionError(MockpipeError, AssertionError):
    """The calls a test expected did not arrive (or arrived invalid); the message explains how.

    `explanation`, when an expectation failed, is its `mockpipe.testing.explanation.Explanation`
    (the structured parts of the message: closest calls, refused calls, other write keys)."""

    explanation: Any = None


class UnknownRuleError(MockpipeError, KeyError):
    """A rule code that is not in the catalogue."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)

    def __str__(self) -> str:
        return f"no rule {self.code!r} in the catalogue (see mockpipe.RULES)"


class JournalWriteError(MockpipeError):
    """A durable journal listener (the store, a recording) could not keep a request: it was not acknowledged."""
