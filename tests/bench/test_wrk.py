"""wrk as the driver, when it is on PATH."""

from __future__ import annotations

import httpx
import pytest

from mockpipe.bench import scenarios, wrk
from mockpipe.bench.scenarios import SCENARIOS
from mockpipe.bench.targets import TargetProcess


@pytest.mark.skipif(wrk.wrk_path() is None, reason="wrk is not on PATH (apt-get install -y wrk)")
def test_wrk_drives_a_server_with_fresh_message_ids() -> None:
    with TargetProcess("mockpipe").wait_ready() as server:
        # the warm-up is a wrk run of its own, and so is the next turn: none of them may resend the ids of another
        wrk.run_wrk(SCENARIOS["single"], "127.0.0.1", server.port, connections=2, duration=1)
        result = wrk.run_wrk(
            SCENARIOS["single"], "127.0.0.1", server.port, connections=2, duration=1, warmup=1, server_pid=server.pid
        )
        source = httpx.get(f"http://127.0.0.1:{server.port}/mockpipe/sources/{scenarios.WRITE_KEY}").json()
    assert result.driver == "wrk"
    assert result.requests > 0 and result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms
    assert result.server_cpu_seconds is not None and result.server_cpu_seconds > 0
    assert source["calls"] >= result.requests
    assert (source["duplicates"], source["invalid"]) == (0, 0)
