"""The published Python SDK, `customerio-cdp-analytics`, with its background consumer, against the fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from customerio.analytics import Client
from pytest_mockpipe import MockPipe


@pytest.fixture
def analytics(mockpipe: MockPipe) -> Iterator[Client]:
    """The SDK as an app configures it (not sync_mode: a consumer thread sends batches every 0.5 s)."""
    client = Client(mockpipe.write_key, host=mockpipe.url)
    yield client
    client.shutdown()


def test_calls_sent_from_the_sdk_consumer_arrive(mockpipe: MockPipe, analytics: Client) -> None:
    analytics.identify("u1", {"email": "jane@example.com", "plan": "pro"})
    analytics.track("u1", "Order Completed", {"order_id": "o-1", "revenue": 99.5, "products": [{"sku": "s1"}]})
    analytics.page("u1", "Docs", "Pricing", {"path": "/pricing"})
    analytics.screen("u1", "App", "Home")
    analytics.group("u1", "acme", {"name": "Acme"})
    analytics.alias("anon-1", "u1")

    # No flush: the assertion waits on the server for the consumer's batch.
    [order] = mockpipe.assert_tracked("Order Completed", user_id="u1", properties={"revenue": 99.5}, count=1)
    assert order["context"]["library"] == {"name": "analytics-python", "version": "1.1.0"}
    assert order["sentAt"] and order["receivedAt"] and order["messageId"]
    mockpipe.assert_identified("u1", traits={"email": "jane@example.com"})
    mockpipe.assert_paged("Pricing", category="Docs", properties={"path": "/pricing"})
    mockpipe.assert_screened("Home", category="App")
    mockpipe.assert_grouped("acme", user_id="u1", traits={"name": "Acme"})
    mockpipe.assert_aliased("u1", previous_id="anon-1")

    assert [r.path for r in mockpipe.requests()] == ["/v1/batch"]  # one batch of six calls
    assert mockpipe.requests()[0].user_agent == "analytics-python/1.1.0"
    assert mockpipe.violations == []
    analytics.flush()
    mockpipe.assert_no_calls(type="track", event="Something Else", timeout=0.01)
