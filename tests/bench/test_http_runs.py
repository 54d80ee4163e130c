"""The HTTP runs: a server's turns add up into one result."""

from __future__ import annotations

from mockpipe.bench import loadgen
from mockpipe.bench.http_runs import combined


def test_turns_add_up_into_one_result() -> None:
    slices = [
        loadgen.LoadResult(100, 1.0, 2.0, 10.0, 0, "wrk", 0.25),
        loadgen.LoadResult(300, 1.0, 4.0, 20.0, 1, "wrk", 0.5),
    ]
    total = combined(slices)
    assert (total.requests, total.seconds, total.errors, total.server_cpu_seconds) == (400, 2.0, 1, 0.75)
    assert total.requests_per_second == 200
    assert (total.p50_ms, total.p99_ms) == (3.5, 17.5)  # weighted by requests
    assert combined([*slices, loadgen.LoadResult(0, 1.0, 0, 0, 0, "wrk", None)]).server_cpu_seconds is None
