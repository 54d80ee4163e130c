"""The Python API page's example, as it is written there."""

from customerio import analytics  # any SDK: here the Customer.io Python client

from mockpipe import MockPipeServer, validate


def test_python_api_example() -> None:
    with MockPipeServer(strict=False, region="us") as server:  # a free port of 127.0.0.1, started in ~2 ms
        client = analytics.Client("wk_test", host=server.url)
        client.track("u1", "Order Completed", {"revenue": 99.5})
        client.identify("u1", {"email": "ada@example.com"})
        client.flush()

        result = server.wait_for(count=2, timeout=5, write_key="wk_test")  # never raises: look at timed_out
        assert not result.timed_out
        (call,) = server.records(write_key="wk_test", event="Order Completed")
        assert call.payload["properties"] == {"revenue": 99.5} and call.valid
        assert [v.code for v in call.violations] == []
        assert server.source("wk_test").connected  # the test connection
        server.clear("wk_test")
        client.shutdown()

    assert [v.code for v in validate({"userId": "u1"}, call_type="track")] == ["track.event.required"]
