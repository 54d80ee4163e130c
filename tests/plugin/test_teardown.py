"""After each test: spec errors fail it, warnings reach the summary, failed tests' calls are recorded."""

from __future__ import annotations

import json
import textwrap

import pytest

INVALID_TEST = """
    import pytest

    def test_invalid(mockpipe, send):
        send(mockpipe, "batch", {"batch": [
            {"type": "track", "userId": "u1", "event": "Fine"},
            {"type": "track", "event": "Anonymous"},
            {"type": "group", "userId": "u1", "groupId": "g1", "traits": {"objectTypeId": "x"}},
        ]})
        mockpipe.assert_tracked("Anonymous")
"""


def test_errors_fail_the_test_listing_code_path_and_message(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(INVALID_TEST)
    result = plugin_tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_invalid _*",
            "mockpipe: the calls sent with write key 'mockpipe_*' broke the spec (2 errors):",
            "  identity.required at /calls/1/userId: track call has neither userId nor anonymousId (nor groupId)",
            "  objectTypeId.format at /calls/2/traits/objectTypeId: traits.objectTypeId must be a positive integer *",
            "Mark the test @pytest.mark.mockpipe(allow_invalid=True) if it sends them on purpose.",
            "*- Captured mockpipe call -*",
            "FAILED *::test_invalid*",
        ]
    )
    assert "Traceback" not in result.stdout.str() and "plugin.py" not in result.stdout.str()


def test_the_marker_allows_invalid_calls(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(
        INVALID_TEST.replace("def test_invalid", "@pytest.mark.mockpipe(allow_invalid=True)\n    def test_invalid")
    )
    plugin_tester.runpytest().assert_outcomes(passed=1)


def test_reading_the_violations_allows_them(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(
        INVALID_TEST
        + """
        assert [v.code for v in mockpipe.violations if v.is_error] == ["identity.required", "objectTypeId.format"]
"""
    )
    plugin_tester.runpytest().assert_outcomes(passed=1)


def test_the_marker_is_registered_and_checks_its_options(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        import pytest

        @pytest.mark.mockpipe(allow_invalids=True)
        def test_typo(mockpipe):
            pass
    """)
    result = plugin_tester.runpytest("--strict-markers")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*TypeError: unknown @pytest.mark.mockpipe option(s) allow_invalids; known: allow_invalid"]
    )
    assert "mockpipe(allow_invalid=False)" in plugin_tester.runpytest("--markers").stdout.str()


def test_calls_arriving_after_the_test_fail_it_at_teardown(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        import pytest

        @pytest.fixture
        def client(mockpipe, send):
            yield
            send(mockpipe, "track", {"userId": "u1"})  # an SDK flushing its queue at shutdown

        def test_late(client, mockpipe):
            pass
    """)
    result = plugin_tester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_late*",
            "  track.event.required at /calls/0/event: track call needs a non-empty event name",
        ]
    )


def test_a_test_failing_anyway_is_not_failed_twice(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        def test_broken(mockpipe, send):
            send(mockpipe, "track", {"userId": "u1"})
            assert False, "broken for its own reasons"
    """)
    result = plugin_tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- Captured mockpipe call -*",
            "  track.event.required at /calls/0/event: track call needs a non-empty event name",
        ]
    )


def test_warnings_go_to_the_terminal_summary(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        import pytest

        def test_warned(mockpipe, send):
            send(mockpipe, "identify", {"userId": "u1", "properties": {"plan": "pro"}})
            send(mockpipe, "screen", {"userId": "u1"})

        def test_clean(mockpipe, send):
            send(mockpipe, "identify", {"userId": "u1"})

        @pytest.mark.mockpipe(allow_invalid=True)
        def test_on_purpose(mockpipe, send):
            send(mockpipe, "screen", {"userId": "u1"})
    """)
    result = plugin_tester.runpytest()
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*= mockpipe warnings =*",
            "2 spec warning(s) in the calls of 1 test(s); production accepts these calls, "
            "but they are probably mistakes:",
            "test_warnings_go_to_the_terminal_summary.py::test_warned",
            "  identify.properties at /calls/0/properties: identify carries properties, *",
            "  screen.name.missing at /calls/1/name: screen call has no name*",
            "*= 3 passed in *",
        ]
    )
    assert "test_on_purpose" not in result.stdout.str()


def test_no_warnings_no_section(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile("""
        def test_clean(mockpipe, send):
            send(mockpipe, "identify", {"userId": "u1"})
    """)
    assert "mockpipe warnings" not in plugin_tester.runpytest().stdout.str()


RECORDED_TESTS = """
    import pytest

    def test_passes(mockpipe, send):
        send(mockpipe, "identify", {"userId": "u1"})

    @pytest.mark.parametrize("n", [1])
    def test_fails(mockpipe, send, make_mockpipe_server, n):
        send(mockpipe, "identify", {"userId": "u1"})
        send(mockpipe, "track", {"userId": "u1", "event": "E", "messageId": "m1"})
        send(mockpipe, "track", {"userId": "u1", "event": "E", "messageId": "m1"})  # a resend
        send(mockpipe.using(make_mockpipe_server(region="eu")), "page", {"userId": "u1"})
        assert False

    def test_invalid(mockpipe, send):
        send(mockpipe, "track", {"userId": "u1"})

    def test_fails_without_mockpipe():
        assert False
"""


def test_record_writes_the_calls_of_each_failed_test(plugin_tester: pytest.Pytester) -> None:
    plugin_tester.makepyfile(test_rec=RECORDED_TESTS)
    result = plugin_tester.runpytest("--mockpipe-record=out/calls")
    result.assert_outcomes(passed=1, failed=3)
    files = sorted(path.name for path in (plugin_tester.path / "out" / "calls").iterdir())
    assert len(files) == 2
    failed, invalid = files
    assert failed.startswith("test_rec.py__test_fails_1-") and failed.endswith(".jsonl")
    assert invalid.startswith("test_rec.py__test_invalid-")
    lines = (plugin_tester.path / "out" / "calls" / failed).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["type"], r["duplicateOf"] is not None, r["region"]) for r in records] == [
        ("identify", False, "us"),
        ("track", False, "us"),
        ("track", True, "us"),
        ("page", False, "eu"),
    ]
    assert records[1]["attempts"] == 2 and records[1]["payload"]["messageId"] == "m1"
    [record] = [json.loads(line) for line in (plugin_tester.path / "out" / "calls" / invalid).read_text().splitlines()]
    assert record["violations"][0]["code"] == "track.event.required"


def test_record_takes_dir_as_a_separate_argument_defaults_to_recordings_and_is_off_by_default(
    plugin_tester: pytest.Pytester,
) -> None:
    plugin_tester.makepyfile(test_rec=RECORDED_TESTS)
    plugin_tester.runpytest().assert_outcomes(passed=1, failed=3)
    assert not (plugin_tester.path / "recordings").exists()
    plugin_tester.runpytest("--mockpipe-record", "kept", "test_rec.py").assert_outcomes(passed=1, failed=3)
    assert len(list((plugin_tester.path / "kept").iterdir())) == 2
    # without DIR: recordings/ under the rootdir
    plugin_tester.runpytest("test_rec.py", "--mockpipe-record").assert_outcomes(passed=1, failed=3)
    assert len(list((plugin_tester.path / "recordings").iterdir())) == 2


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        # Written before a test path, an optional DIR took the path: every test ran, and the first
        # failed one's teardown hit FileExistsError.
        (["--mockpipe-record", "test_rec.py"], "not the test path 'test_rec.py'"),
        (["--mockpipe-record", "test_rec.py::test_fails"], "not the test path"),
        (["--mockpipe-record=notes.txt"], "notes.txt is a file"),
        (["--mockpipe-record="], "needs a directory"),
    ],
)
def test_record_refuses_a_test_path_or_a_file_before_any_test_runs(
    plugin_tester: pytest.Pytester, arguments: list[str], complaint: str
) -> None:
    plugin_tester.makepyfile(test_rec=RECORDED_TESTS)
    plugin_tester.path.joinpath("notes.txt").write_text("not a directory")
    result = plugin_tester.runpytest(*arguments)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert complaint in result.stderr.str()
    assert "test_rec.py" not in result.stdout.str()  # nothing was collected or run
    assert sorted(p.name for p in plugin_tester.path.iterdir()) == [
        "conftest.py",
        "notes.txt",
        "test_rec.py",
        "tox.ini",
    ]


@pytest.mark.parametrize("directory", ["tests/", "tests", "./tests/"])
def test_record_refuses_a_directory_of_tests(plugin_tester: pytest.Pytester, directory: str) -> None:
    # As the README promises: `pytest --mockpipe-record tests/` took tests/ for DIR and wrote recordings there.
    tests = plugin_tester.mkdir("tests")
    tests.joinpath("unit").mkdir()
    tests.joinpath("unit", "test_rec.py").write_text(textwrap.dedent(RECORDED_TESTS))
    result = plugin_tester.runpytest("--mockpipe-record", directory)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"not the test directory {directory!r}" in result.stderr.str()
    assert "--mockpipe-record recordings" in result.stderr.str()
    assert sorted(p.name for p in tests.rglob("*") if "__pycache__" not in p.parts) == ["test_rec.py", "unit"]
    # a directory of earlier recordings is fine
    plugin_tester.mkdir("recordings").joinpath("old.jsonl").write_text("")
    plugin_tester.runpytest("--mockpipe-record", "recordings", "tests").assert_outcomes(passed=1, failed=3)
