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


class QueryParameterError(MockpipeError, ValueError):
    """A query parameter of the inspection API that does not read as expected (a 400 `query.invalid`)."""

    def __init__(self, parameter: str, value: str, expected: str) -> None:
        self.parameter = parameter
        self.value = value
        self.expected = expected
        shown = value if len(value) <= 40 else value[:37] + "..."  # 5000 digits do not belong in a message
        super().__init__(f"query parameter {parameter}={shown!r}: expected {expected}")
