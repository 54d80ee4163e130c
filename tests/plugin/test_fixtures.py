"""The fixtures: session server, server factory, the per-test `mockpipe` view and its queries."""

from __future__ import annotations

import re
import threading

import pytest
from pytest_mockpipe import MockPipe, ServerFactory

from mockpipe import CallAssertionError, MockPipeServer, SourceStatus
from mockpipe.testing.snapshot import WRITE_KEY_PATTERN
from tests.support.sending import Send


def test_plugin_is_registered_through_its_entry_point(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("mockpipe")


def test_mockpipe_is_a_fresh_key_on_the_session_server(mockpipe: MockPipe, mockpipe_server: MockPipeServer) -> None:
    assert mockpipe.server is mockpipe_server
    assert mockpipe_server.is_running()
    assert mockpipe.url == mockpipe_server.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", mockpipe.url)
    assert WRITE_KEY_PATTERN.fullmatch(mockpipe.write_key)  # what snapshots replace with <writeKey:N>
    assert mockpipe.payloads() == []


def test_tests_share_the_server_but_not_their_calls(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        import pytest
        seen = []

        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_send(mockpipe, send, n):
            seen.append((mockpipe.url, mockpipe.write_key))
            send(mockpipe, "track", {"userId": f"u{n}", "event": "E"})
            assert [c["userId"] for c in mockpipe.expect(1)] == [f"u{n}"]
            assert len(mockpipe.server.journal.calls()) == n  # the server kept the others' calls

        def test_seen():
            assert len({url for url, _ in seen}) == 1
            assert len({key for _, key in seen}) == 3
    """)
    plugin_tester.runpytest().assert_outcomes(passed=4)


def test_payloads_are_dicts_and_records_are_calls(mockpipe: MockPipe, send: Send) -> None:
    send(
        mockpipe,
        "batch",
        {
            "batch": [
                {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
                {"type": "track", "userId": "u1", "event": "Signed Up"},
                {"type": "track", "anonymousId": "a1", "event": "Viewed"},
                {"type": "page", "userId": "u1", "name": "Home"},
            ]
        },
    )
    calls = mockpipe.payloads()
    assert [c["type"] for c in calls] == ["identify", "track", "track", "page"]
    assert calls[0]["traits"] == {"plan": "pro"} and "receivedAt" in calls[0] and "messageId" in calls[0]
    assert [c["event"] for c in mockpipe.payloads(type="track")] == ["Signed Up", "Viewed"]
    assert [c["event"] for c in mockpipe.payloads(user_id="u1", type="track")] == ["Signed Up"]
    assert [c["event"] for c in mockpipe.payloads(anonymous_id="a1")] == ["Viewed"]
    assert [c["name"] for c in mockpipe.payloads(name="Home")] == ["Home"]
    assert len(mockpipe.payloads(limit=2)) == 2
    records = mockpipe.records(type="track")
    assert [r.event for r in records] == ["Signed Up", "Viewed"]
    assert all(r.write_key == mockpipe.write_key and r.valid for r in records)
    assert mockpipe.payloads(message_id=records[0].message_id) == [records[0].payload]


def test_resends_are_hidden_unless_asked(mockpipe: MockPipe, send: Send) -> None:
    call = {"userId": "u1", "event": "E", "messageId": "m-1"}
    send(mockpipe, "track", call)
    send(mockpipe, "track", call)
    assert len(mockpipe.payloads()) == 1
    assert len(mockpipe.payloads(duplicates=True)) == 2


def test_unknown_filters_and_the_write_key_filter_are_refused(mockpipe: MockPipe) -> None:
    with pytest.raises(TypeError, match=r"unknown call filter.*known: type, event"):
        mockpipe.payloads(userId="u1")
    with pytest.raises(TypeError, match="the write key is the fixture's own"):
        mockpipe.payloads(write_key="other")


def test_requests_and_source(mockpipe: MockPipe, send: Send) -> None:
    assert mockpipe.source() == SourceStatus(mockpipe.write_key)
    assert not mockpipe.source().connected
    send(mockpipe, "track", {"userId": "u1", "event": "E"}, **{"User-Agent": "probe/1"})
    send(mockpipe, "track", b"not json", **{"Content-Type": "application/json"})
    requests = mockpipe.requests()
    assert (requests[0].path, requests[0].accepted, requests[0].user_agent) == ("/v1/track", True, "probe/1")
    assert requests[1].reason == "request.json.invalid"
    status = mockpipe.source()
    assert status.connected and status.calls == 1 and status.requests == 2
    assert mockpipe.violations  # the body that is not JSON (read: the test does not fail for it)


def test_expect_returns_when_calls_arrive_from_another_thread(mockpipe: MockPipe, send: Send) -> None:
    later = threading.Timer(0.05, send, (mockpipe, "track", {"userId": "u1", "event": "Late"}))
    later.start()
    try:
        assert [c["event"] for c in mockpipe.expect(1, timeout=5, event="Late")] == ["Late"]
    finally:
        later.join()


def test_expect_names_what_it_waited_for_when_it_times_out(mockpipe: MockPipe, send: Send) -> None:
    send(mockpipe, "track", {"userId": "u1", "event": "Other"})
    with pytest.raises(CallAssertionError) as failure:
        mockpipe.expect(2, timeout=0.05, type="track")
    assert str(failure.value) == (
        "waited 0.05 s for 2 call(s) with type='track', 1 arrived\n  [0] track 'Other' userId='u1'"
    )


def test_clear_forgets_this_key_only(mockpipe: MockPipe, send: Send) -> None:
    other = mockpipe.using(mockpipe.server)
    send(mockpipe, "track", {"userId": "u1", "event": "E"})
    send(other, "track", {"userId": "u2", "event": "E"})
    assert mockpipe.clear() == 1
    assert mockpipe.payloads() == [] and len(other.payloads()) == 1


def test_person_and_object_are_those_of_the_test_s_own_write_key(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("plan", ["free", "pro"])
        def test_person(mockpipe, send, plan):
            # Both tests send u1 and acme: each sees its own, on its own write key.
            send(mockpipe, "identify", {"userId": "u1", "anonymousId": "a1",
                                        "traits": {"plan": plan, "email": "u1@example.com"}})
            send(mockpipe, "group", {"userId": "u1", "groupId": "acme", "traits": {
                "name": f"Acme {plan}", "relationshipAttributes": {"role": "admin"}}})
            send(mockpipe, "group", {"userId": "u1", "groupId": "course-9", "objectTypeId": "2"})
            assert mockpipe.person("u1").traits == {"plan": plan, "email": "u1@example.com"}
            assert mockpipe.person("a1") == mockpipe.person("u1@example.com") == mockpipe.person("u1")
            assert mockpipe.person("u1").write_key == mockpipe.write_key
            assert mockpipe.person("nobody") is None
            acme = mockpipe.object("acme")
            assert acme.traits == {"name": f"Acme {plan}"} and acme.people == {"u1": {"role": "admin"}}
            assert mockpipe.object("course-9", type_id="2").object_type_id == "2"
            assert mockpipe.object("course-9") is None  # type "1" by default
            with pytest.raises(TypeError):
                mockpipe.object("2", "course-9")  # the type is a keyword: no silent mix-up of the two
    """)
    plugin_tester.runpytest().assert_outcomes(passed=2)


def test_make_mockpipe_server_shares_servers_by_options(
    make_mockpipe_server: ServerFactory, mockpipe_server: MockPipeServer
) -> None:
    strict = make_mockpipe_server(strict=True)
    assert strict.is_running() and strict.config.strict
    assert make_mockpipe_server(strict=True) is strict
    assert make_mockpipe_server() is mockpipe_server
    private = make_mockpipe_server(strict=True, shared=False)
    assert private is not strict and private.is_running()
    assert make_mockpipe_server(write_keys=["k1"]) is make_mockpipe_server(write_keys={"k1"})


def test_factory_servers_keep_their_settings(
    mockpipe: MockPipe, make_mockpipe_server: ServerFactory, send: Send
) -> None:
    strict_eu = mockpipe.using(make_mockpipe_server(strict=True, region="eu"))
    assert send(strict_eu, "track", {"event": "no id"}).status_code == 400
    assert send(strict_eu, "track", {"userId": "u1", "event": "E"}).status_code == 200
    assert [r.region for r in strict_eu.records()] == ["eu", "eu"]
    strict_eu.violations  # noqa: B018  (read: the invalid call is on purpose)

    known = mockpipe.using(make_mockpipe_server(strict=True, write_keys={"k1"}), write_key="k1")
    assert known.write_key == "k1" and known.payloads() == []
    assert send(known, "identify", {"userId": "u1"}).status_code == 200
    stranger = mockpipe.using(known.server)
    assert send(stranger, "identify", {"userId": "u1"}).status_code == 401
    stranger.violations  # noqa: B018


def test_a_known_key_is_cleared_for_each_view(make_mockpipe_server: ServerFactory, send: Send) -> None:
    server = make_mockpipe_server(write_keys={"k2"})
    first = MockPipe(server, write_key="k2")
    send(first, "identify", {"userId": "u1"})
    assert MockPipe(server, write_key="k2").payloads() == []


def test_factory_servers_stop_at_the_end_of_the_session(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        servers = []

        def test_start(make_mockpipe_server, mockpipe_server):
            servers.extend([make_mockpipe_server(region="eu"), mockpipe_server])
    """)
    result = plugin_tester.inline_run()
    result.assertoutcome(passed=1)
    module = result.getcalls("pytest_itemcollected")[0].item.module
    assert [server.is_running() for server in module.servers] == [False, False]


def test_mockpipe_strict_option_answers_invalid_calls_with_400(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        import pytest

        @pytest.mark.mockpipe(allow_invalid=True)
        def test_strict(mockpipe, send, make_mockpipe_server):
            assert send(mockpipe, "track", {"event": "no id"}).status_code == 400
            assert make_mockpipe_server(region="eu").config.strict
            assert not make_mockpipe_server(strict=False).config.strict
    """)
    plugin_tester.runpytest("--mockpipe-strict").assert_outcomes(passed=1)
    plugin_tester.runpytest().assert_outcomes(failed=1)


def test_listen_address_can_be_overridden(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makeconftest(
        plugin_tester.path.joinpath("conftest.py").read_text()
        + """
@pytest.fixture(scope="session")
def mockpipe_listen_address():
    return ("localhost", 0)
"""
    )
    plugin_tester.makepyfile("""
        def test_host(mockpipe, send):
            assert mockpipe.url.startswith("http://localhost:")
            send(mockpipe, "identify", {"userId": "u1"})
            mockpipe.assert_identified("u1")
    """)
    plugin_tester.runpytest().assert_outcomes(passed=1)
