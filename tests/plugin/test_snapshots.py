"""`mockpipe_snapshot`: create, compare and update JSON snapshots whose volatile values are references."""

from __future__ import annotations

import json

import pytest

SNAPSHOT_TEST = """
    def test_calls(mockpipe, send, mockpipe_snapshot):
        send(mockpipe, "batch", {"batch": [
            {"type": "identify", "anonymousId": "anon-1", "traits": {"plan": "pro"}},
            {"type": "alias", "previousId": "PREVIOUS", "userId": "u1",
             "context": {"library": {"name": "sdk", "version": "1.2.3"}}},
        ], "sentAt": "2024-01-01T00:00:01.000Z"})
        mockpipe.expect(2)
        assert mockpipe.payloads() == mockpipe_snapshot
        assert mockpipe.records(type="alias") == mockpipe_snapshot
"""

CALLS = [
    {
        "anonymousId": "<anonymousId:1>",
        "messageId": "<messageId:1>",
        "receivedAt": "<receivedAt>",
        "sentAt": "<sentAt>",
        "timestamp": "<timestamp>",
        "traits": {"plan": "pro"},
        "type": "identify",
    },
    {
        "context": {"library": {"name": "sdk", "version": "<version:1>"}},
        "messageId": "<messageId:2>",
        "previousId": "<anonymousId:1>",
        "receivedAt": "<receivedAt>",
        "sentAt": "<sentAt>",
        "timestamp": "<timestamp>",
        "type": "alias",
        "userId": "u1",
    },
]


@pytest.fixture
def snapshot_dir(plugin_tester: pytest.Pytester) -> pytest.Pytester:
    plugin_tester.makepyfile(test_snap=SNAPSHOT_TEST.replace("PREVIOUS", "anon-1"))
    return plugin_tester


def test_create_compare_and_update(snapshot_dir: pytest.Pytester) -> None:
    result = snapshot_dir.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Snapshot 'test_calls' does not exist!*"])

    result = snapshot_dir.runpytest("--snapshot-update")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["2 snapshots generated."])
    folder = snapshot_dir.path / "__snapshots__" / "test_snap"
    assert sorted(path.name for path in folder.iterdir()) == ["test_calls.1.json", "test_calls.json"]
    text = (folder / "test_calls.json").read_text()
    assert json.loads(text) == CALLS
    assert text.startswith('[\n  {\n    "anonymousId": "<anonymousId:1>",\n')  # indented, keys sorted
    [record] = json.loads((folder / "test_calls.1.json").read_text())
    assert {key: record[key] for key in ("id", "requestId", "writeKey", "messageId", "receivedAt")} == {
        "id": "<callId:1>",
        "requestId": "<requestId:1>",
        "writeKey": "<writeKey:1>",
        "messageId": "<messageId:1>",
        "receivedAt": "<receivedAt>",
    }
    assert record["payload"]["previousId"] == "anon-1"  # no anonymousId in this snapshot to link it to

    snapshot_dir.runpytest().assert_outcomes(passed=1)  # a new run, new ids, times and write key

    snapshot_dir.makepyfile(test_snap=SNAPSHOT_TEST.replace("PREVIOUS", "anon-2"))
    result = snapshot_dir.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '*-     "previousId": "<anonymousId:1>",',
            '*+     "previousId": "anon-2",',
        ]
    )

    snapshot_dir.runpytest("--snapshot-update").stdout.fnmatch_lines(["2 snapshots updated."])
    assert json.loads((folder / "test_calls.json").read_text())[1]["previousId"] == "anon-2"
    snapshot_dir.runpytest().assert_outcomes(passed=1)


def test_user_matchers_and_filters_still_apply(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(
        test_snap="""
        from syrupy.filters import props

        def test_calls(mockpipe, send, mockpipe_snapshot):
            send(mockpipe, "identify", {"userId": "u1", "traits": {"plan": "pro", "seed": 42}})
            assert mockpipe.payloads() == mockpipe_snapshot(exclude=props("seed", "receivedAt", "timestamp"))
    """
    )
    plugin_tester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    [call] = json.loads((plugin_tester.path / "__snapshots__" / "test_snap" / "test_calls.json").read_text())
    assert call == {"messageId": "<messageId:1>", "traits": {"plan": "pro"}, "type": "identify", "userId": "u1"}


IDS_TEST = """
    import uuid

    from syrupy.filters import props

    from pytest_mockpipe import snapshot_ids

    def test_order(mockpipe, send, mockpipe_snapshot):
        user, order, cart = (str(uuid.uuid4()) for _ in range(3))
        send(mockpipe, "batch", {"batch": [
            {"type": "identify", "userId": user, "traits": {"plan": "pro"}},
            {"type": "track", "userId": user, "event": "Order Completed",
             "properties": {"order_id": order, "cart": cart, "echo": order}},
        ]})
        mockpipe.expect(2)
        assert mockpipe.payloads() == mockpipe_snapshot(exclude=props("cart"))  # random: not an id of the ini
        assert mockpipe.payloads() == mockpipe_snapshot(matcher=snapshot_ids("properties.cart"))
"""


def test_snapshot_ids_from_ini_and_per_assertion(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\nfilterwarnings = error\n"
        "mockpipe_snapshot_ids = userId properties.order_id\n"
    )
    plugin_tester.makepyfile(test_ids=IDS_TEST)
    folder = plugin_tester.path / "__snapshots__" / "test_ids"
    plugin_tester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    first = {path.name: path.read_text() for path in folder.iterdir()}
    result = plugin_tester.runpytest()  # new random ids, the same snapshots
    result.assert_outcomes(passed=1)
    assert result.ret == 0  # none unused either: the extension made for the ini's ids finds its files
    plugin_tester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    assert {path.name: path.read_text() for path in folder.iterdir()} == first

    identify, track = json.loads(first["test_order.json"])
    assert identify["userId"] == track["userId"] == "<userId:1>"
    assert track["properties"]["order_id"] == track["properties"]["echo"] == "<order_id:1>"
    assert "cart" not in track["properties"]
    assert json.loads(first["test_order.1.json"])[1]["properties"]["cart"] == "<cart:1>"
