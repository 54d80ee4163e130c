"""The plugin's tracking plan: `--mockpipe-plan` / ini `mockpipe_plan` enforced on the fixture's servers
(each broken rule, permissive and strict, the teardown failure naming the rule), the coverage section,
merged the same under `-n 2` as in one process, and `--mockpipe-plan-fail-under`."""

from __future__ import annotations

import re

import orjson
import pytest

from tests.plans.conftest import SHOP_PLANS
from tests.plans.test_check import BROKEN

SHOP = SHOP_PLANS["mockpipe"]
INI = "[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\nfilterwarnings = error\n"

BROKEN_TESTS = """
    import json
    import pytest

    CASES = json.loads({cases!r})

    @pytest.mark.parametrize("case", CASES, ids=[c[2] + c[3] for c in CASES])
    def test_broken(mockpipe, send, case):
        call_type, call, code, path = case
        answer = send(mockpipe, call_type, {{k: v for k, v in call.items() if k != "type"}})
        error = code not in ("plan.event.unplanned", "plan.property.unplanned")
        assert answer.status_code == (400 if error and {strict} else 200)
        found = [v for v in mockpipe.violations if v.code.startswith("plan.")]
        assert [(v.code, v.path) for v in found] == [(code, "/calls/0" + path)]
        rule = "track:" + call["event"] if call_type == "track" else call_type
        assert found[0].plan["file"].endswith("plan.yaml")
        if code != "plan.event.unplanned":
            assert found[0].plan["rule"] == rule
"""


@pytest.mark.parametrize("strict", [False, True], ids=["permissive", "strict"])
def test_each_broken_rule_through_the_plugin(plugin_tester: pytest.Pytester, strict: bool) -> None:
    cases = orjson.dumps([[t, c, code, p] for t, c, code, p in BROKEN]).decode()
    plugin_tester.makepyfile(test_broken=BROKEN_TESTS.format(cases=cases, strict=strict))
    options = ["--mockpipe-plan", str(SHOP), *(["--mockpipe-strict"] if strict else [])]
    plugin_tester.runpytest(*options).assert_outcomes(passed=len(BROKEN))


def test_a_plan_error_fails_the_test_at_teardown_naming_the_rule(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(
        test_one="""
        def test_order(mockpipe, send):
            send(mockpipe, "track", {"userId": "u1", "event": "Order Completed", "properties": {"total": 1}})
        """
    )
    result = plugin_tester.runpytest("--mockpipe-plan", str(SHOP))
    result.assert_outcomes(failed=1)
    expected = (
        "  plan.property.required at /calls/0/properties/order_id: property 'order_id' is required by the "
        f"tracking plan (track 'Order Completed') [plan: track:Order Completed in {SHOP}#/track/Order Completed "
        "(mockpipe), schema /properties/properties/required]"
    )
    assert expected in result.stdout.lines
    result.stdout.fnmatch_lines(["*the calls sent with write key 'mockpipe_*' broke the tracking plan (1 error):"])


COVERAGE_TESTS = """
    import pytest

    @pytest.mark.parametrize("n", range(4))
    def test_orders(mockpipe, send, n):
        properties = {"order_id": f"o{n}", "total": n}
        if n == 2:
            properties["currency"] = "EUR"
        send(mockpipe, "track", {"userId": f"u{n}", "event": "Order Completed", "properties": properties})

    @pytest.mark.parametrize("n", range(3))
    def test_people(mockpipe, send, n):
        send(mockpipe, "identify", {"userId": f"u{n}", "traits": {"email": f"u{n}@example.com"}})

    def test_unplanned(mockpipe, send):
        send(mockpipe, "track", {"userId": "u1", "event": "Order Refunded"})
"""


def _section(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if re.match(r"=+ mockpipe plan coverage =+", line))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("="))
    return lines[start + 1 : end]


def test_coverage_under_two_workers_matches_one_process(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_cov=COVERAGE_TESTS)
    serial = plugin_tester.runpytest_subprocess("--mockpipe-plan", str(SHOP))
    serial.assert_outcomes(passed=8)
    parallel = plugin_tester.runpytest_subprocess("-n", "2", "--mockpipe-plan", str(SHOP))
    parallel.assert_outcomes(passed=8)
    section = _section(serial.stdout.lines)
    assert section == _section(parallel.stdout.lines)
    assert section == [
        f"plan: {SHOP} (mockpipe), 8 call(s) checked",
        "events covered: 50.0% (1 of 2)",
        "never sent: track:Product Viewed",
        "track:Order Completed: properties never sent: coupon",
        'track:Order Completed: currency values never sent: "USD"',
        "identify: properties never sent: plan",
        'identify: plan values never sent: "free", "pro"',
        "unplanned: track:Order Refunded (1)",
    ]


def test_fail_under_fails_the_session_as_cov_fail_under_does(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_cov=COVERAGE_TESTS)
    below = plugin_tester.runpytest_subprocess("-n", "2", "--mockpipe-plan", str(SHOP), "--mockpipe-plan-fail-under=75")
    below.assert_outcomes(passed=8)
    assert below.ret == pytest.ExitCode.TESTS_FAILED
    below.stdout.fnmatch_lines(["FAIL Required mockpipe plan coverage of 75% not reached. Events covered: 50.00%"])
    reached = plugin_tester.runpytest("--mockpipe-plan", str(SHOP), "--mockpipe-plan-fail-under", "50")
    assert reached.ret == pytest.ExitCode.OK
    reached.stdout.fnmatch_lines(["Required mockpipe plan coverage of 50% reached. Events covered: 50.00%"])


def test_the_ini_plan_is_relative_to_the_ini_file_and_a_broken_one_stops_the_session(
    plugin_tester: pytest.Pytester,
) -> None:
    (plugin_tester.path / "plans").mkdir()
    (plugin_tester.path / "plans" / "shop.yaml").write_bytes(SHOP.read_bytes())
    plugin_tester.makeini(INI + "mockpipe_plan = plans/shop.yaml\n")
    plugin_tester.makepyfile(
        test_one="""
        def test_order(mockpipe, send):
            send(mockpipe, "track", {"userId": "u1", "event": "Order Completed", "properties": {"total": "1"}})
            assert [v.code for v in mockpipe.violations] == ["plan.property.required", "plan.property.type"]
        """
    )
    result = plugin_tester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*= mockpipe plan coverage =*", "events covered: 50.0% (1 of 2)"])

    (plugin_tester.path / "plans" / "shop.yaml").write_text("mockpipe_plan: 1\ntrack: [\n")
    broken = plugin_tester.runpytest()
    assert broken.ret == pytest.ExitCode.USAGE_ERROR
    broken.stderr.fnmatch_lines(["*--mockpipe-plan: cannot read tracking plan *shop.yaml at line *expected*"])


def test_fail_under_without_a_plan_is_a_usage_error(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_one="def test_nothing():\n    pass\n")
    result = plugin_tester.runpytest("--mockpipe-plan-fail-under", "50")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
