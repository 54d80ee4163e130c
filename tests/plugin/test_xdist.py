"""The plugin under pytest-xdist: a server per worker, warnings reach the controller's summary,
snapshots are written with --snapshot-update, failed tests are recorded."""

from __future__ import annotations

import json

import pytest

from tests.support.ports import free_port

TESTS = """
    import os
    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_isolated(mockpipe, send, mockpipe_snapshot, n):
        send(mockpipe, "track", {"userId": f"u{n}", "event": "Ordered", "properties": {"n": n}})
        mockpipe.assert_tracked("Ordered", user_id=f"u{n}", count=1)
        assert mockpipe.payloads(type="track") == mockpipe_snapshot
        print("worker", os.environ.get("PYTEST_XDIST_WORKER"), mockpipe.url)

    def test_warned(mockpipe, send):
        send(mockpipe, "screen", {"userId": "u1"})

    def test_invalid(mockpipe, send):
        send(mockpipe, "track", {"userId": "u1"})
"""


def test_two_workers(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_par=TESTS)
    result = plugin_tester.runpytest_subprocess("-n", "2", "--snapshot-update", "--mockpipe-record=rec", "-rA")
    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*= mockpipe warnings =*",
            "1 spec warning(s) in the calls of 1 test(s)*",
            "test_par.py::test_warned",
            "  screen.name.missing at /calls/0/name: screen call has no name*",
            "*6 snapshots generated.*",
        ]
    )
    workers = {line.split()[1]: line.split()[2] for line in result.stdout.lines if line.startswith("worker gw")}
    assert len(workers) == 2 and len(set(workers.values())) == 2  # each worker has its own server
    [recording] = (plugin_tester.path / "rec").iterdir()
    assert recording.name.startswith("test_par.py__test_invalid-")
    assert json.loads(recording.read_text())["violations"][0]["code"] == "track.event.required"
    snapshots = plugin_tester.path / "__snapshots__" / "test_par"
    assert json.loads((snapshots / "test_isolated[3].json").read_text())[0]["properties"] == {"n": 3}

    result = plugin_tester.runpytest("-k", "isolated")  # the snapshots written by the workers hold
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*6 snapshots passed.*"])


def test_a_fixed_port_under_two_workers_is_refused_naming_xdist(
    plugin_tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each worker starts its own server: the second one to bind MOCKPIPE_PORT failed all its tests.
    plugin_tester.makepyfile(test_par=TESTS)
    monkeypatch.setenv("MOCKPIPE_PORT", str(free_port()))
    result = plugin_tester.runpytest_subprocess("-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = result.stderr.str()
    assert "MOCKPIPE_PORT" in error and "pytest-xdist" in error and "2 workers" in error
    assert "leave MOCKPIPE_PORT unset" in error and "mockpipe_listen_address" in error
    assert "Address already in use" not in result.stdout.str() + error
    assert result.stderr.str().count("ERROR") == 1
    # one worker may keep its fixed port
    result = plugin_tester.runpytest_subprocess("-n", "1", "-k", "isolated", "--snapshot-update")
    result.assert_outcomes(passed=6)
