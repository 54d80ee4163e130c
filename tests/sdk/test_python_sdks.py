"""The three Python SDKs, unmodified, against a running mockpipe: every call of the scenario arrives,
valid, as the golden recording has it, and can be found in the journal as soon as the flush returns."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from mockpipe import MockPipeServer, RequestQuery
from tests.support.golden import assert_matches_recording, machine_values
from tests.support.sdk_scenario import PYTHON_SDKS, check_scenario, flush_to_journal, python_client, send_python

if TYPE_CHECKING:
    from tests.support.sdk_scenario import RecordProperty

# The calls are in the journal when the flush returns (flush_to_journal checks it); the lookup itself
# takes tens of microseconds. This bound only catches a regression by orders of magnitude.
FOUND_WITHIN = 0.25


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", PYTHON_SDKS)
def test_python_sdk_sends_the_whole_scenario(
    server: MockPipeServer, name: str, gzip: bool, record_property: RecordProperty
) -> None:
    key = f"sdk_{uuid.uuid4().hex[:12]}"
    with python_client(name, server.url, key, gzip=gzip) as client:
        flushed = send_python(client)
        latency = flush_to_journal(server, key, flushed)
    record_property("flush_to_journal_ms", round(latency * 1000, 3))
    assert latency < FOUND_WITHIN

    calls = server.calls(write_key=key)
    check_scenario(name, calls)
    requests = server.requests(RequestQuery(write_key=key))
    assert {(r.path, r.auth, r.status) for r in requests} == {("/v1/batch", "basic", 200)}
    assert {r.content_encoding for r in requests} == {"gzip" if gzip else None}
    assert all(r.user_agent and r.user_agent.startswith("analytics-python/") for r in requests)
    assert_matches_recording(name, calls, machine_values(write_key=key, name=name))


@pytest.mark.parametrize("region", ["us", "eu"])
def test_customerio_sends_a_region_key_as_bearer(region: str) -> None:
    key = f"pk_{region}_{uuid.uuid4().hex[:12]}"
    with MockPipeServer(region=region) as server:
        with python_client("customerio-cdp-analytics", server.url, key) as client:
            send_python(client)
        calls = server.calls(write_key=key)
        requests = server.requests()
    check_scenario("customerio-cdp-analytics", calls)  # valid: no writeKey.region error in either region
    assert {(r.auth, r.status) for r in requests} == {("bearer", 200)}
    assert {call.region for call in calls} == {region}
