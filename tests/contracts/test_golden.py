"""The contract of the eight golden SDK recordings, enforced as a plan, passes every one of their calls."""

from __future__ import annotations

from mockpipe.contracts.sources import contract_of_recordings, recorded_payloads
from mockpipe.plans import PlanChecker, loads_plan
from tests.support.paths import RECORDINGS
from tests.support.sdk_scenario import SDKS


def test_the_golden_recordings_pass_their_own_contract_without_a_violation() -> None:
    files = sorted(RECORDINGS.glob("*.jsonl"))
    assert len(files) == len(SDKS) == 8
    text = contract_of_recordings(files).render()
    checker = PlanChecker(loads_plan(text))  # the file, read back as any plan is
    payloads = list(recorded_payloads(files))
    assert len(payloads) == 48
    violations = [(p["type"], v) for p in payloads for v in checker.check(str(p["type"]), p)]
    assert violations == []
    assert "  Order Completed:\n" in text and "identify:\n" in text and "group:\n" in text


def test_a_folder_reads_as_its_recordings() -> None:
    one = contract_of_recordings([RECORDINGS]).render()
    assert one == contract_of_recordings(sorted(RECORDINGS.glob("*.jsonl"))).render()
