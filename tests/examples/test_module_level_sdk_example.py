"""docs/pytest-plugin.md: an app that configures the SDK at module level, pointed at the `mockpipe` fixture."""

import customerio.analytics as analytics
import pytest
from pytest_mockpipe import MockPipe


def complete_order(user_id: str, order_id: str) -> None:
    # The app's code: it uses the module-level client, configured at start-up
    # (analytics.write_key = os.environ["CIO_WRITE_KEY"]).
    analytics.track(user_id, "Order Completed", {"order_id": order_id})


@pytest.fixture(autouse=True)
def analytics_to_mockpipe(mockpipe: MockPipe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics, "write_key", mockpipe.write_key)
    monkeypatch.setattr(analytics, "host", mockpipe.url)
    monkeypatch.setattr(analytics, "sync_mode", True)
    # The module makes its client on first use, with the settings of that moment, and keeps it:
    # without this, every later test would send with the first test's write key.
    monkeypatch.setattr(analytics, "default_client", None)


def test_order_completed(mockpipe: MockPipe) -> None:
    complete_order("user-1", "o-1")
    mockpipe.assert_tracked("Order Completed", user_id="user-1", properties={"order_id": "o-1"})


def test_each_test_has_its_own_key(mockpipe: MockPipe) -> None:
    complete_order("user-2", "o-2")
    mockpipe.assert_tracked("Order Completed", user_id="user-2", count=1)
