"""The contract snapshot of the plugin: written, silent when the same, failing with the diff when not,
byte-identical under xdist, accepted with --mockpipe-contract-update."""

from __future__ import annotations

import pytest

APP_V1 = """
    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_order(mockpipe, send, n):
        props = {"order_id": f"o{n}", "total": 10.5 + n, "items": [{"sku": "s", "qty": n}]}
        if n % 2:
            props["coupon"] = "SPRING"
        send(mockpipe, "track", {"userId": f"u{n}", "event": "Order Completed", "properties": props})
        mockpipe.assert_tracked("Order Completed", count=1)

    def test_signup(mockpipe, send):
        send(mockpipe, "identify", {"userId": "u1", "traits": {"email": "jane@example.com"}})
        send(mockpipe, "track", {"userId": "u1", "event": "Signed Up", "properties": {"plan": "pro"}})
        mockpipe.assert_tracked("Signed Up", count=1)
"""

CONTRACT_V1 = """\
# mockpipe contract: what the tests sent, one line per fact (docs/contracts.md)
mockpipe_plan: 1
allow_unplanned_events: true
allow_unplanned_properties: true
identify:
  fields:
    email: string, email
track:
  Order Completed:
    fields:
      coupon: string, optional
      items: array
      items[]: object
      items[].qty: integer
      items[].sku: string
      order_id: string
      total: number
  Signed Up:
    fields:
      plan: string
"""


def changed(source: str) -> str:
    """The app after a change: order_id renamed, total sent as a string, Signed Up no longer sent."""
    source = source.replace('{"order_id": f"o{n}", "total": 10.5 + n', '{"orderId": f"o{n}", "total": str(10.5 + n)')
    return source.replace(
        '        send(mockpipe, "track", {"userId": "u1", "event": "Signed Up", "properties": {"plan": "pro"}})\n'
        '        mockpipe.assert_tracked("Signed Up", count=1)\n',
        "",
    )


def test_first_run_writes_the_file_and_the_same_contract_is_silent(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_app=APP_V1)
    result = plugin_tester.runpytest("--mockpipe-contract", "contracts/events.yaml")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*= mockpipe contract =*", "wrote contracts/events.yaml: a contract of 3 event(s)"])
    assert (plugin_tester.path / "contracts" / "events.yaml").read_text() == CONTRACT_V1
    again = plugin_tester.runpytest("--mockpipe-contract", "contracts/events.yaml")
    assert again.ret == 0
    assert "mockpipe contract" not in again.stdout.str()


def test_two_workers_write_the_same_bytes_as_one(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_app=APP_V1)
    plugin_tester.runpytest("--mockpipe-contract", "serial.yaml", "--mockpipe-contract-sources").assert_outcomes(
        passed=7
    )
    result = plugin_tester.runpytest_subprocess(
        "-n", "2", "--mockpipe-contract", "xdist.yaml", "--mockpipe-contract-sources"
    )
    result.assert_outcomes(passed=7)
    serial, xdist = [(plugin_tester.path / name).read_bytes() for name in ("serial.yaml", "xdist.yaml")]
    assert serial == xdist
    assert b"    sources:\n    - test_app.py::test_order[0]\n" in serial
    result = plugin_tester.runpytest_subprocess("-n", "2", "--mockpipe-contract", "serial.yaml")
    assert result.ret == 0 and "mockpipe contract" not in result.stdout.str()  # the sources are no change


def test_a_changed_app_fails_with_its_breaking_changes_and_update_accepts_them(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_app=APP_V1)
    plugin_tester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\nmockpipe_contract = c.yaml\n"
    )
    plugin_tester.runpytest().assert_outcomes(passed=7)
    plugin_tester.makepyfile(test_app=changed(APP_V1))
    result = plugin_tester.runpytest()
    result.assert_outcomes(passed=7)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= mockpipe contract =*",
            "c.yaml differs from what the tests sent; the session fails.",
            "contract diff: 3 breaking, 1 compatible change(s)",
            "breaking changes:",
            "  - Order Completed.properties.order_id: string (property removed)",
            "  ~ Order Completed.properties.total: number -> string (type changed)",
            "  - Signed Up (event removed)",
            "compatible changes:",
            "  + Order Completed.properties.orderId: string (property added)",
            "Review the changes; accept them with --mockpipe-contract-update.",
        ],
        consecutive=True,
    )
    assert (plugin_tester.path / "c.yaml").read_text() == CONTRACT_V1  # left for the reviewer
    accepted = plugin_tester.runpytest("--mockpipe-contract-update")
    assert accepted.ret == 0
    accepted.stdout.fnmatch_lines(["updated c.yaml", "contract diff: 3 breaking, 1 compatible change(s)"])
    text = (plugin_tester.path / "c.yaml").read_text()
    assert "      orderId: string\n      total: string\n" in text and "Signed Up" not in text
    assert plugin_tester.runpytest().ret == 0


def test_a_new_optional_property_is_compatible(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_app=APP_V1)
    plugin_tester.runpytest("--mockpipe-contract", "c.yaml").assert_outcomes(passed=7)
    plugin_tester.makepyfile(test_app=APP_V1.replace('= "SPRING"', '= "SPRING"; props["gift"] = True'))
    options = ("--mockpipe-contract", "c.yaml", "--mockpipe-contract-fail-on", "breaking")
    result = plugin_tester.runpytest(*options)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "c.yaml differs from what the tests sent; the session passes (--mockpipe-contract-fail-on breaking).",
            "contract diff: 0 breaking, 1 compatible change(s)",
            "compatible changes:",
            "  + Order Completed.properties.gift: boolean, optional (property added)",
        ],
        consecutive=True,
    )
    assert plugin_tester.runpytest("--mockpipe-contract", "c.yaml").ret == pytest.ExitCode.TESTS_FAILED  # fail-on any


def test_a_failed_or_partial_session_is_not_compared(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_app=APP_V1)
    plugin_tester.runpytest("--mockpipe-contract", "c.yaml").assert_outcomes(passed=7)
    partial = plugin_tester.runpytest("--mockpipe-contract", "c.yaml", "-k", "signup")
    assert partial.ret == 0
    partial.stdout.fnmatch_lines(["c.yaml not compared: 6 test(s) deselected"])
    plugin_tester.makepyfile(test_app=changed(APP_V1) + "\n    def test_broken():\n        assert False\n")
    failed = plugin_tester.runpytest("--mockpipe-contract", "c.yaml")
    failed.stdout.fnmatch_lines(["c.yaml not compared: the session failed*"])
    assert (plugin_tester.path / "c.yaml").read_text() == CONTRACT_V1


def test_a_folder_at_the_path_fails_the_session_saying_why(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_app=APP_V1)
    (plugin_tester.path / "c.yaml").mkdir()
    result = plugin_tester.runpytest("--mockpipe-contract", "c.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["cannot read tracking plan *c.yaml: expected plan files *", "fix it, or rewrite it*"])
