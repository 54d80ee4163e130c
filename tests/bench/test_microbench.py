"""The in-process figures measured on their own: here the start-up of `mockpipe validate`."""

from __future__ import annotations

import pytest

from mockpipe.bench import microbench
from mockpipe.bench.scenarios import SCENARIOS, Scenario


def test_the_start_up_of_validate_is_measured_beside_the_bare_interpreter() -> None:
    startup = microbench.startup_time(2)
    assert startup.runs == 2
    # Sane, not timed: the interpreter alone starts, and mockpipe validate (which imports it) takes longer.
    assert 0 < startup.python_s < startup.validate_s < 60
    assert startup.own_s == pytest.approx(startup.validate_s - startup.python_s)


def test_the_start_up_needs_a_run() -> None:
    with pytest.raises(ValueError, match="at least one run"):
        microbench.startup_time(0)


def test_a_failing_validate_run_is_reported_not_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    # The benchmark's track call must be valid: a call with an error would time `validate`'s error path.
    monkeypatch.setitem(SCENARIOS, "single", Scenario("single", "/v1/track", 1, b'{"userId": "u1"}'))
    with pytest.raises(RuntimeError, match=r"validate .* failed \(1\): .*track\.event\.required"):
        microbench.startup_time(1)
