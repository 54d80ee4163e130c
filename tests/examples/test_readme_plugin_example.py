"""The README's example of the pytest plugin: a real SDK against the `mockpipe` fixture."""

import pytest
from customerio.analytics import Client
from pytest_mockpipe import MockPipe
from syrupy.assertion import SnapshotAssertion


@pytest.fixture
def analytics(mockpipe: MockPipe) -> Client:
    # Configure the SDK as the app does, with the fixture's server and this test's own write key.
    # sync_mode sends each call before it returns: the default background thread would make
    # shutdown() wait out its upload interval, about a second a test.
    return Client(mockpipe.write_key, host=mockpipe.url, sync_mode=True)


def test_checkout_tracks_the_order(analytics: Client, mockpipe: MockPipe, mockpipe_snapshot: SnapshotAssertion) -> None:
    analytics.identify("user-1", {"email": "jane@example.com"})
    analytics.track("user-1", "Order Completed", {"order_id": "o-1", "revenue": 99.5})

    # Waits (on the server) for the calls to arrive, however the SDK delivers them, then matches a subset.
    mockpipe.assert_tracked("Order Completed", user_id="user-1", properties={"revenue": 99.5})
    mockpipe.expect(2)
    assert mockpipe.payloads() == mockpipe_snapshot


def test_the_fixture_sends_each_call_before_it_returns(analytics: Client, mockpipe: MockPipe) -> None:
    # Not shown in the README: the fixture is fast. A client with a consumer thread waits out its upload
    # interval in shutdown() (about a second a test); a synchronous one has no thread and nothing queued.
    import threading

    from customerio.analytics.consumer import Consumer

    consumers = [t for t in threading.enumerate() if isinstance(t, Consumer) and t.write_key == mockpipe.write_key]
    assert consumers == []  # no thread, so shutdown has nothing to wait for
    analytics.track("user-1", "Cart Viewed")
    assert len(mockpipe.records()) == 1  # already journaled: no wait, no flush
    assert analytics.queue.qsize() == 0
