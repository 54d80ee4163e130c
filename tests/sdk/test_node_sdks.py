"""The three Node SDKs, unmodified, in a Node child process (`node/driver.mjs`) against a running
mockpipe: every call arrives, valid, as the golden recording has it. Skipped, with the reason, where
Node or the npm packages are not installed (`.ci/install-sdks.sh` installs them)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from mockpipe import MockPipeServer, RequestQuery
from tests.sdk.test_python_sdks import FOUND_WITHIN
from tests.support.golden import assert_matches_recording, machine_values
from tests.support.sdk_scenario import NODE_SDKS, SDKS, check_scenario, flush_to_journal, node_missing, send_node

if TYPE_CHECKING:
    from tests.support.sdk_scenario import RecordProperty

USER_AGENTS = {
    "customerio-cdp-analytics-node": "cdp-analytics-node/",
    "segment-analytics-node": "analytics-node-next/",
    "analytics-node-legacy": "analytics-node/",
}


@pytest.mark.parametrize("name", NODE_SDKS)
def test_node_sdk_sends_the_whole_scenario(server: MockPipeServer, name: str, record_property: RecordProperty) -> None:
    reason = node_missing(name)
    if reason:
        pytest.skip(reason)
    key = f"sdk_{uuid.uuid4().hex[:12]}"
    latency = flush_to_journal(server, key, send_node(name, server.url, key))
    record_property("flush_to_journal_ms", round(latency * 1000, 3))
    assert latency < FOUND_WITHIN

    calls = server.calls(write_key=key)
    check_scenario(name, calls)
    assert all(call.payload["context"]["library"]["name"].endswith(SDKS[name].package.split("/")[-1]) for call in calls)
    requests = server.requests(RequestQuery(write_key=key))
    assert {(r.path, r.auth, r.status) for r in requests} == {("/v1/batch", "basic", 200)}
    assert all(r.user_agent and r.user_agent.startswith(USER_AGENTS[name]) for r in requests)
    assert_matches_recording(name, calls, machine_values(write_key=key, name=name))
