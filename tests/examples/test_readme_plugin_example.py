"""The README's example of the pytest plugin: a real SDK against the `mockpipe` fixture."""

from collections.abc import Iterator

import pytest
from customerio.analytics import Client
from pytest_mockpipe import MockPipe
from syrupy.assertion import SnapshotAssertion


@pytest.fixture
def analytics(mockpipe: MockPipe) -> Iterator[Client]:
    # Configure the SDK as the app does, with the fixture's server and this test's own write key.
    client = Client(mockpipe.write_key, host=mockpipe.url)
    yield client
    client.shutdown()


def test_checkout_tracks_the_order(analytics: Client, mockpipe: MockPipe, mockpipe_snapshot: SnapshotAssertion) -> None:
    analytics.identify("user-1", {"email": "jane@example.com"})
    analytics.track("user-1", "Order Completed", {"order_id": "o-1", "revenue": 99.5})

    # Waits (on the server) for the SDK's background consumer to deliver, then matches a subset.
    mockpipe.assert_tracked("Order Completed", user_id="user-1", properties={"revenue": 99.5})
    mockpipe.expect(2)
    assert mockpipe.payloads() == mockpipe_snapshot
