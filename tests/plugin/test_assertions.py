"""The fixture's assertions, passing and failing, and what their failures say."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from unittest.mock import ANY

import pytest
from pytest_mockpipe import MockPipe

from mockpipe import CallAssertionError
from tests.support.sending import Send


def fails(action: object) -> str:
    """The message of the CallAssertionError that `action()` raises."""
    with pytest.raises(CallAssertionError) as failure:
        action()  # type: ignore[operator]
    return str(failure.value)


@pytest.fixture
def sent(mockpipe: MockPipe, send: Send) -> MockPipe:
    """A view that received one call of each type."""
    mockpipe.timeout = 0.05  # failures below need not wait: every call is already there
    send(
        mockpipe,
        "batch",
        {
            "batch": [
                {"type": "identify", "userId": "u1", "traits": {"email": "a@example.com", "plan": "pro"}},
                {
                    "type": "track",
                    "userId": "u1",
                    "event": "Order Completed",
                    "properties": {"revenue": 9.5, "products": [{"sku": "s1", "qty": 2}]},
                },
                {"type": "page", "userId": "u1", "name": "Pricing", "category": "Docs", "properties": {"path": "/p"}},
                {"type": "screen", "anonymousId": "a1", "name": "Home", "properties": {"tab": "feed"}},
                {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}},
                {"type": "alias", "previousId": "a1", "userId": "u1"},
            ]
        },
    )
    return mockpipe


def test_each_assertion_passes_and_returns_the_matching_payloads(sent: MockPipe) -> None:
    [track] = sent.assert_tracked("Order Completed", user_id="u1", properties={"revenue": 9.5})
    assert track["properties"]["products"] == [{"sku": "s1", "qty": 2}]
    sent.assert_tracked("Order Completed", properties={"products": [{"sku": "s1"}]}, count=1)
    sent.assert_identified("u1", traits={"plan": "pro"})
    sent.assert_identified(traits={"email": ANY}, anonymous_id=None)
    sent.assert_paged("Pricing", user_id="u1", category="Docs", properties={"path": "/p"})
    sent.assert_paged()
    sent.assert_screened("Home", anonymous_id="a1", properties={"tab": "feed"})
    sent.assert_grouped("acme", user_id="u1", traits={"name": "Acme"})
    sent.assert_aliased("u1", previous_id="a1")
    sent.assert_call("track", {"event": "Order Completed", "properties": {}})
    sent.assert_tracked("Never Sent", count=0, timeout=0.01)


def test_assert_tracked_shows_the_closest_calls_and_their_differences(mockpipe: MockPipe, send: Send) -> None:
    send(
        mockpipe,
        "batch",
        {
            "batch": [
                {"type": "track", "userId": "u2", "event": "Signed Up", "properties": {"plan": "free"}},
                {"type": "track", "userId": "u1", "event": "Signed In"},
                {"type": "track", "userId": "u9", "event": "Other", "properties": {"plan": "x"}},
                {"type": "track", "userId": "u1", "event": "Signed Up", "properties": {"plan": "basic", "seats": 2}},
                {"type": "identify", "userId": "u1"},
            ]
        },
    )
    message = fails(
        lambda: mockpipe.assert_tracked("Signed Up", user_id="u1", properties={"plan": "pro"}, timeout=0.05)
    )
    assert (
        message
        == """\
expected a track call with event='Signed Up', userId='u1', properties containing {'plan': 'pro'}
but none of the 5 calls received in 0.05 s matched.
Closest calls:
  [3] track 'Signed Up' userId='u1'
      properties.plan: expected 'pro', got 'basic'
  [0] track 'Signed Up' userId='u2'
      userId: expected 'u1', got 'u2'
      properties.plan: expected 'pro', got 'free'
  [1] track 'Signed In' userId='u1'
      event: expected 'Signed Up', got 'Signed In'
      properties: expected {'plan': 'pro'}, got <missing>
Other calls: 1 identify."""
    )


@pytest.mark.parametrize(
    ("assertion", "expected", "diff"),
    [
        (
            lambda p: p.assert_identified("u2", traits={"plan": "free"}),
            "expected an identify call with userId='u2', traits containing {'plan': 'free'}",
            ["userId: expected 'u2', got 'u1'", "traits.plan: expected 'free', got 'pro'"],
        ),
        (
            lambda p: p.assert_paged("Pricing", category="Blog"),
            "expected a page call with name='Pricing', category='Blog'",
            ["category: expected 'Blog', got 'Docs'"],
        ),
        (
            lambda p: p.assert_screened("Home", properties={"tab": "search"}),
            "expected a screen call with name='Home', properties containing {'tab': 'search'}",
            ["properties.tab: expected 'search', got 'feed'"],
        ),
        (
            lambda p: p.assert_grouped("acme", traits={"name": "ACME", "size": 5}),
            "expected a group call with groupId='acme', traits containing {'name': 'ACME', 'size': 5}",
            ["traits.name: expected 'ACME', got 'Acme'", "traits.size: expected 5, got <missing>"],
        ),
        (
            lambda p: p.assert_aliased("u1", previous_id="a2"),
            "expected an alias call with userId='u1', previousId='a2'",
            ["previousId: expected 'a2', got 'a1'"],
        ),
        (
            lambda p: p.assert_tracked("Order Completed", properties={"products": [{"sku": "s2"}]}),
            "expected a track call with event='Order Completed', properties containing {'products': [{'sku': 's2'}]}",
            ["properties.products[0].sku: expected 's2', got 's1'"],
        ),
    ],
    ids=["identified", "paged", "screened", "grouped", "aliased", "nested"],
)
def test_each_assertion_fails_with_the_differing_fields(
    sent: MockPipe, assertion: object, expected: str, diff: list[str]
) -> None:
    message = fails(lambda: assertion(sent))  # type: ignore[operator]
    lines = message.splitlines()
    assert lines[0] == expected
    assert lines[1] == "but none of the 6 calls received in 0.05 s matched."
    assert lines[2] == "Closest calls:"
    assert [line.strip() for line in lines[4 : 4 + len(diff)]] == diff
    assert lines[-1].startswith("Other calls: ")


def test_a_type_that_never_arrived_is_said_so(sent: MockPipe, send: Send) -> None:
    message = fails(lambda: sent.assert_call("track", {"event": "Order Completed"}, count=2))
    assert message.splitlines() == [
        "expected exactly 2 track calls with event='Order Completed'",
        "but only 1 matched after waiting 0.05 s:",
        "  [1] track 'Order Completed' userId='u1'",
    ]
    alone = sent.using(sent.server)
    send(alone, "identify", {"userId": "u1"})
    assert fails(lambda: alone.assert_paged(timeout=0.01)).splitlines()[1:] == [
        "but none of the 1 call received in 0.01 s matched.",
        "No page call arrived.",
        "Other calls: 1 identify.",
    ]


def test_too_many_fails_at_once(sent: MockPipe) -> None:
    message = fails(lambda: sent.assert_call("identify", count=0, timeout=5))
    assert message.splitlines() == ["expected no identify call", "but 1 matched:", "  [0] identify userId='u1'"]


def test_nothing_arrived_names_the_key_and_the_rejected_requests(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "track", b"{not json")
    message = fails(lambda: mockpipe.assert_tracked("E", timeout=0.01))
    lines = message.splitlines()
    assert lines[:3] == [
        "expected a track call with event='E'",
        f"but no call arrived for write key {mockpipe.write_key!r} within 0.01 s.",
        "1 request(s) with this write key were not accepted:",
    ]
    assert lines[3].startswith("  POST /v1/track -> 200 request.json.invalid: request body is not valid JSON: ")
    assert "url and write key" in message
    mockpipe.violations  # noqa: B018  (read: the broken body is on purpose)


@pytest.fixture
def later(send: Send) -> Iterator[object]:
    """`later(pipe, path, body)`: the call arrives 50 ms from now, from another thread (as an SDK's)."""
    timers: list[threading.Timer] = []

    def schedule(pipe: MockPipe, path: str, body: object) -> None:
        timer = threading.Timer(0.05, send, (pipe, path, body))
        timers.append(timer)
        timer.start()

    yield schedule
    for timer in timers:
        timer.join()


def test_assertions_wait_for_late_calls(mockpipe: MockPipe, later: object) -> None:
    later(mockpipe, "track", {"userId": "u1", "event": "Late", "properties": {"n": 1}})  # type: ignore[operator]
    mockpipe.assert_tracked("Late", properties={"n": 1}, timeout=5)


def test_an_assertion_waits_past_calls_that_do_not_match(mockpipe: MockPipe, send: Send, later: object) -> None:
    send(mockpipe, "track", {"userId": "u1", "event": "Late", "properties": {"n": 0}})
    later(mockpipe, "track", {"userId": "u1", "event": "Late", "properties": {"n": 1}})  # type: ignore[operator]
    [call] = mockpipe.assert_tracked("Late", properties={"n": 1}, timeout=5)
    assert call["properties"] == {"n": 1}


def test_assert_no_calls_passes_after_the_grace_period(mockpipe: MockPipe) -> None:
    mockpipe.assert_no_calls(timeout=0.01)


def test_assert_no_calls_catches_a_late_call(mockpipe: MockPipe, later: object) -> None:
    later(mockpipe, "track", {"userId": "u1", "event": "Late"})  # type: ignore[operator]
    assert fails(lambda: mockpipe.assert_no_calls(timeout=5)).splitlines() == [
        "expected no calls, but 1 arrived:",
        "  [0] track 'Late' userId='u1'",
    ]


def test_assert_no_calls_takes_filters(sent: MockPipe) -> None:
    sent.assert_no_calls(type="track", event="Other", timeout=0.01)
    assert fails(lambda: sent.assert_no_calls(type="alias", timeout=0.01)).splitlines() == [
        "expected no calls with type='alias', but 1 arrived:",
        "  [0] alias userId='u1' previousId='a1'",
    ]


def test_check_raises_the_errors_so_far(mockpipe: MockPipe, send: Send) -> None:
    mockpipe.check()
    send(mockpipe, "track", {"event": "no id"})
    assert fails(mockpipe.check).splitlines()[1] == (
        "  identity.required at /calls/0/userId: track call has neither userId nor anonymousId (nor groupId)"
    )
    assert [v.code for v in mockpipe.violations] == ["identity.required"]


def test_violations_point_into_calls_and_requests(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "identify", {"userId": "u1", "properties": {"a": 1}})
    send(mockpipe, "batch", {"batch": []})
    send(mockpipe, "batch", {"batch": [{"type": "track", "userId": "u1"}]})
    assert [(v.code, v.severity, v.path) for v in mockpipe.violations] == [
        ("identify.properties", "warning", "/calls/0/properties"),
        ("track.event.required", "error", "/calls/1/event"),
        ("batch.empty", "error", "/requests/1/batch"),
    ]
    assert mockpipe.violations_inspected


def test_a_failing_assertion_reads_well_in_pytest_output(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        def test_signup(mockpipe, send):
            send(mockpipe, "track", {"userId": "u1", "event": "Signed Up", "properties": {"plan": "free"}})
            mockpipe.assert_tracked("Signed Up", properties={"plan": "pro"}, timeout=0.01)
    """)
    result = plugin_tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>*mockpipe.assert_tracked("Signed Up", properties={"plan": "pro"}, timeout=0.01)',
            "E*CallAssertionError: expected a track call with event='Signed Up', properties containing {'plan': 'pro'}",
            "E*properties.plan: expected 'pro', got 'free'",
            "*- Captured mockpipe call -*",
            "write key 'mockpipe_*' on http://127.0.0.1:*: 1 call(s)",
            "  [[]0] track 'Signed Up' userId='u1'",
        ]
    )
    assert "assertions.py" not in result.stdout.str()  # the library's frames are hidden


def test_timeouts_default_to_the_ini_options(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\n"
        "mockpipe_timeout = 0.25\nmockpipe_grace = 0.125\n"
    )
    plugin_tester.makepyfile("""
        def test_defaults(mockpipe):
            assert (mockpipe.timeout, mockpipe.grace) == (0.25, 0.125)
    """)
    plugin_tester.runpytest().assert_outcomes(passed=1)
