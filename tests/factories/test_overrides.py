"""Overrides: deep-merged, DROP removes, copied rather than shared."""

from __future__ import annotations

from mockpipe.factories import DROP, PayloadFactory


def test_overrides_are_deep_merged(factory: PayloadFactory) -> None:
    plain = factory.seed(11).track(event="Order Completed")
    merged = factory.seed(11).track(event="Order Completed", properties={"plan": "pro"}, userId="u1")
    assert merged["userId"] == "u1"
    assert merged["properties"] == {**plain["properties"], "plan": "pro"}
    assert merged["context"] == plain["context"]


def test_drop_removes_fields_at_any_depth(factory: PayloadFactory) -> None:
    payload = factory.seed(2).identify(
        channel="browser", anonymousId=DROP, context={"page": DROP}, traits={"email": DROP, "tags": ["a", DROP, "b"]}
    )
    assert "anonymousId" not in payload and "page" not in payload["context"]
    assert "email" not in payload["traits"] and payload["traits"]["tags"] == ["a", "b"]
    assert "userAgent" in payload["context"]


def test_overrides_are_copied_not_shared(factory: PayloadFactory) -> None:
    properties = {"plan": "pro", "tags": ["x"]}
    payload = factory.seed(1).track(properties=properties)
    payload["properties"]["tags"].append("y")
    assert properties == {"plan": "pro", "tags": ["x"]}
