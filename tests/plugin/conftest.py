"""Fixtures of the plugin's tests: `send` (see sending.py) and `plugin_tester`."""

from __future__ import annotations

from pathlib import Path

# Imported before any inner session: pytester drops the modules an inner run imported first, and httpx
# keeps httpcore's exception classes from its first request. httpx imports httpcore lazily, so if that
# first request was an inner run's, later tests get a second httpcore whose errors httpx no longer maps
# (httpcore.RemoteProtocolError escapes instead of httpx.RemoteProtocolError).
import httpcore  # noqa: F401
import pytest
import yaml  # noqa: F401  (likewise: a second PyYAML would not match the C loader the first one built)

from tests.support import sending
from tests.support.sending import send as send

SENDING_SOURCE = Path(sending.__file__).read_text()


@pytest.fixture
def plugin_tester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester directory with the `send` fixture, warnings as errors and no cache."""
    # Under `pytest -n`, the inner session would take itself for an xdist worker (syrupy would not report).
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeconftest(SENDING_SOURCE)
    # hypothesis would be imported afresh by each in-process run (about 1 s): this plugin does not need it.
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\nfilterwarnings = error\n")
    return pytester
