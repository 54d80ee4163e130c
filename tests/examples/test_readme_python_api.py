"""The README's Python API example, as it is written there."""

from __future__ import annotations

from customerio import analytics

from mockpipe import MockPipeServer, validate


def test_python_api_example() -> None:
    with MockPipeServer(strict=False, region="us") as server:
        client = analytics.Client("wk_test", host=server.url)
        client.track("u1", "Order Completed", {"revenue": 99.5})
        client.identify("u1", {"email": "ada@example.com"})
        client.flush()

        result = server.wait_for(count=2, timeout=5, write_key="wk_test")
        assert not result.timed_out
        (call,) = server.calls(write_key="wk_test", event="Order Completed")
        assert call.payload["properties"] == {"revenue": 99.5} and call.valid
        assert server.source("wk_test").connected
        server.clear("wk_test")
        client.shutdown()

    assert [v.code for v in validate({"userId": "u1"}, call_type="track")] == ["track.event.required"]
