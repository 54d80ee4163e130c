"""Fixtures and hooks of the mockpipe pytest plugin (the `pytest11` entry point).

- `mockpipe_server` (session): the emulator, one per session (per worker under xdist), on a free port.
- `make_mockpipe_server` (session): `make_mockpipe_server(strict=True, region="eu", ...)` for other settings.
- `mockpipe` (function): a `MockPipe` with a fresh write key on the session server: its calls, waits,
  assertions, faults, and the people and objects its calls made (`mockpipe.person("u1")`).
- `mockpipe_snapshot` (function): syrupy's `snapshot` with mockpipe's JSON extension (references; app ids
  from the ini option `mockpipe_snapshot_ids`).

With `--mockpipe-plan PATH` (ini `mockpipe_plan`), every server checks calls against that tracking plan
and the terminal summary shows its coverage (`plan_coverage`).

After each test, the error-severity violations of its calls fail it (unless marked
`@pytest.mark.mockpipe(allow_invalid=True)` or it read `mockpipe.violations`); warnings go to the
terminal summary.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mockpipe.options import (
    add_options,
    check_options,
    check_port_under_xdist,
    contract_path,
    plan_path,
    record_directory,
)
from pytest_mockpipe.summary import WarningsSummary, as_user_property

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from syrupy.assertion import SnapshotAssertion

    from mockpipe.emulator.server import MockPipeServer
    from mockpipe.spec.rules import Violation
    from pytest_mockpipe.contract import ContractSnapshot
    from pytest_mockpipe.fixture import MockPipe
    from pytest_mockpipe.plan_coverage import PlanSession
    from pytest_mockpipe.servers import ServerFactory

# Only the options, the marker and the summary are imported with the plugin; the emulator and its
# web stack (a quarter of a second) load with the first fixture that needs them.

MARKER = "mockpipe"
MARKER_OPTIONS = frozenset(("allow_invalid",))

_PIPES = pytest.StashKey[list["MockPipe"]]()  # the MockPipe views a test made, checked after it
_REPORTED = pytest.StashKey[set[tuple[str, str, str]]]()  # errors already failing the test's call phase
_FAILED = pytest.StashKey[bool]()  # the setup or call phase failed
_PLAN: pytest.StashKey[PlanSession] = pytest.StashKey()  # the session's tracking plan (--mockpipe-plan), when given


# -- options -------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    check_options(config)
    check_port_under_xdist(config)
    contract = contract_path(config)
    if contract is not None:
        from pytest_mockpipe.contract import PLUGIN_NAME, ContractSnapshot

        config.pluginmanager.register(ContractSnapshot(config, contract), PLUGIN_NAME)
    config.addinivalue_line(
        "markers",
        f"{MARKER}(allow_invalid=False): mockpipe options for this test; allow_invalid=True lets "
        "its calls break the spec without failing it",
    )
    config.pluginmanager.register(WarningsSummary(), "mockpipe-warnings")
    path = plan_path(config)
    if path is not None:  # read now: a plan that cannot be read stops the session before any test
        from pytest_mockpipe.plan_coverage import PlanSession

        session = PlanSession(
            config, path, config.getoption("mockpipe_plan_format"), config.getoption("mockpipe_plan_fail_under")
        )
        config.stash[_PLAN] = session
        config.pluginmanager.register(session, "mockpipe-plan")
    elif config.getoption("mockpipe_plan_fail_under") is not None:
        raise pytest.UsageError("--mockpipe-plan-fail-under needs a plan: --mockpipe-plan PATH (or ini mockpipe_plan)")


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mockpipe_listen_address() -> tuple[str, int]:
    """Where the session server listens: `MOCKPIPE_HOST`/`MOCKPIPE_PORT`, else a free port of 127.0.0.1.

    Override it in a conftest.py. A fixed port cannot serve several xdist workers.
    """
    from mockpipe.emulator.config import DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT

    return os.environ.get("MOCKPIPE_HOST", DEFAULT_LISTEN_HOST), int(
        os.environ.get("MOCKPIPE_PORT", DEFAULT_LISTEN_PORT)
    )


@pytest.fixture(scope="session")
def make_mockpipe_server(
    pytestconfig: pytest.Config, mockpipe_listen_address: tuple[str, int]
) -> Iterator[ServerFactory]:
    """Start servers with other settings: `make_mockpipe_server(strict=True, write_keys={"k1"})`.

    Same options, same (shared) server; all are stopped at the end of the session.
    """
    from pytest_mockpipe.servers import ServerFactory

    defaults: dict[str, Any] = {"host": mockpipe_listen_address[0]}
    if pytestconfig.getoption("mockpipe_strict"):
        defaults["strict"] = True
    plan = pytestconfig.stash.get(_PLAN, None)
    if plan is not None:
        defaults.update(plan.server_options())
    factory = ServerFactory(**defaults)
    yield factory
    snapshot = _contract_snapshot(pytestconfig)
    if snapshot is not None:
        snapshot.observe_servers(factory.running())
    factory.stop_all(before_stop=None if plan is None else plan.collect)


@pytest.fixture(scope="session")
def mockpipe_server(make_mockpipe_server: ServerFactory, mockpipe_listen_address: tuple[str, int]) -> MockPipeServer:
    """The session's emulator (one per xdist worker), shared by every `mockpipe` fixture."""
    port = mockpipe_listen_address[1]
    return make_mockpipe_server(port=port) if port else make_mockpipe_server()


@pytest.fixture
def mockpipe(request: pytest.FixtureRequest, mockpipe_server: MockPipeServer) -> Iterator[MockPipe]:
    """This test's view of the session server: a fresh write key, its calls, waits and assertions, and the
    people and objects its calls made (`mockpipe.person("u1").traits`, `mockpipe.object("acme")`)."""
    from pytest_mockpipe.fixture import MockPipe

    item = request.node
    options = _marker_options(item)
    config = request.config
    pipe = MockPipe(mockpipe_server, timeout=config.getini("mockpipe_timeout"), grace=config.getini("mockpipe_grace"))
    item.stash.setdefault(_PIPES, []).append(pipe)
    yield pipe
    for view in _views(pipe):  # left behind, a test's fault rules would slow every later request
        view.clear_faults()
    snapshot = _contract_snapshot(config)
    if snapshot is not None:
        snapshot.observe_views(_views(pipe), item.nodeid)
    _finish(item, pipe, allow_invalid=options["allow_invalid"])


@pytest.fixture
def mockpipe_snapshot(pytestconfig: pytest.Config, snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy's `snapshot`, writing key-sorted JSON with volatile values as `<messageId:1>` references
    (also the app ids named by the ini option `mockpipe_snapshot_ids`)."""
    from mockpipe.testing.snapshot import MockpipeSnapshotExtension  # syrupy is only imported by tests that snapshot

    return snapshot.use_extension(MockpipeSnapshotExtension.with_ids(pytestconfig.getini("mockpipe_snapshot_ids")))


# -- after each test -----------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a test that passed but whose calls broke the spec, in its own call phase (reads best)."""
    try:
        result = yield
    except BaseException:
        if item.stash.get(_PIPES, []):
            _add_calls_section(item)
            _new_errors(item, item.stash[_PIPES])  # shown in the section: not reported again at teardown
        raise
    pipes = item.stash.get(_PIPES, [])
    if pipes and not _marker_options(item)["allow_invalid"]:
        errors = _new_errors(item, pipes)
        if errors:
            _add_calls_section(item)
            pytest.fail(_errors_message(errors), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and report.when in ("setup", "call"):
        item.stash[_FAILED] = True
    return report


def _finish(item: pytest.Item, pipe: MockPipe, *, allow_invalid: bool) -> None:
    """The fixture's teardown: late errors fail the test (at teardown), warnings are reported, and
    a failed test's calls are recorded if asked."""
    pipes = _views(pipe)
    errors = [] if allow_invalid else _new_errors(item, [pipe])
    if not allow_invalid:
        warnings = [
            v for view in pipes if not view.violations_inspected for v in view.peek_violations() if not v.is_error
        ]
        if warnings:
            item.user_properties.append(as_user_property(warnings))
    directory = record_directory(item.config)
    if directory is not None and (errors or item.stash.get(_FAILED, False)):
        from pytest_mockpipe.recording import write_recording

        records = [(view.journal, call) for view in pipes for call in view.records(duplicates=True)]
        write_recording(directory, item.nodeid, records)
    if errors:
        pytest.fail(_errors_message(errors), pytrace=False)


def _contract_snapshot(config: pytest.Config) -> ContractSnapshot | None:
    from pytest_mockpipe.contract import PLUGIN_NAME

    found: ContractSnapshot | None = config.pluginmanager.get_plugin(PLUGIN_NAME)
    return found


def _views(pipe: MockPipe) -> list[MockPipe]:
    views = [pipe]
    for derived in pipe.derived:
        views.extend(_views(derived))
    return views


def _new_errors(item: pytest.Item, pipes: list[MockPipe]) -> list[tuple[MockPipe, list[Violation]]]:
    """Errors of views whose violations the test did not read, not already reported; marks them reported."""
    reported = item.stash.setdefault(_REPORTED, set())
    found = []
    for pipe in (view for top in pipes for view in _views(top)):
        if pipe.violations_inspected:
            continue
        errors = []
        for violation in pipe.peek_violations():
            key = (pipe.write_key, violation.path, violation.code)
            if violation.is_error and key not in reported:
                reported.add(key)
                errors.append(violation)
        if errors:
            found.append((pipe, errors))
    return found


def _errors_message(found: list[tuple[MockPipe, list[Violation]]]) -> str:
    from pytest_mockpipe.fixture import violations_message

    return "\n".join(violations_message(pipe, errors) for pipe, errors in found)


def _add_calls_section(item: pytest.Item) -> None:
    """Show what a failed test's write keys received, under "Captured mockpipe call"."""
    from mockpipe.testing.assertions import describe_calls, format_violations

    lines = []
    for pipe in (view for top in item.stash.get(_PIPES, []) for view in _views(top)):
        payloads = pipe.payloads()
        lines.append(f"write key {pipe.write_key!r} on {pipe.url}: {len(payloads)} call(s)")
        lines.extend("  " + line for line in describe_calls(payloads))
        lines.extend("  " + line for line in format_violations(pipe.peek_violations()))
    if lines:
        item.add_report_section("call", "mockpipe", "\n".join(lines))


def _marker_options(item: pytest.Item) -> dict[str, Any]:
    """The options of the closest `mockpipe` marker; raises `TypeError` for unknown ones."""
    options: dict[str, Any] = {"allow_invalid": False}
    marker = item.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            raise TypeError(f"@pytest.mark.{MARKER} takes keyword options only: {', '.join(sorted(MARKER_OPTIONS))}")
        unknown = set(marker.kwargs) - MARKER_OPTIONS
        if unknown:
            raise TypeError(
                f"unknown @pytest.mark.{MARKER} option(s) {', '.join(sorted(unknown))}; known: "
                f"{', '.join(sorted(MARKER_OPTIONS))}"
            )
        options.update(marker.kwargs)
    return options
