"""The session's tracking plan (`--mockpipe-plan`, ini `mockpipe_plan`): read once before any test, given
to every server the plugin starts, and its coverage gathered from them, merged across pytest-xdist
workers, printed in the terminal summary and held to `--mockpipe-plan-fail-under` as pytest-cov's
`--cov-fail-under` holds line coverage (the session fails, exit status 1).

Each worker puts its servers' counts into `config.workeroutput`; the controller adds them up in
`pytest_testnodedown`. Counts are plain data (`Coverage.to_dict()`), so they cross execnet as they are.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mockpipe.emulator.server import MockPipeServer

WORKER_OUTPUT = "mockpipe_plan_coverage"


class PlanSession:
    """A plugin object: the plan of the session and what the tests sent of it."""

    def __init__(self, config: pytest.Config, path: Path, format: str | None, fail_under: float | None) -> None:
        from mockpipe.plans import Coverage, PlanError, load_plan

        try:
            self.plan = load_plan(path, format=format)
        except PlanError as exc:  # before any test runs, as a usage error: exit status 4
            raise pytest.UsageError(f"--mockpipe-plan: {exc}") from None
        self.config = config
        self.path = path
        self.format = format
        self.fail_under = fail_under
        self.coverage = Coverage(self.plan)

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def server_options(self) -> dict[str, Any]:
        """The options of `MockPipeServer` that put the plan in force (hashable: servers are shared by them)."""
        return {"plan": str(self.path), "plan_format": self.format}

    def collect(self, server: MockPipeServer) -> None:
        """Add a server's counts, when it ran under the session's plan (called before it stops)."""
        entry = server.plans.own(None)
        if entry is None or entry.path != str(self.path):
            return
        found = server.plans.coverage()
        if found is not None:
            self.coverage.merge(found.to_dict())

    @property
    def failed(self) -> bool:
        return self.fail_under is not None and self.coverage.events_covered < self.fail_under

    # -- hooks ---------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        result = yield
        # After every test and the session's servers (stopped with the last test), and after every
        # worker's counts arrived: the verdict counts as a failure, as pytest-cov's does.
        if not self.is_worker and self.failed:
            session.testsfailed += 1
        return result

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if output is not None:
            output[WORKER_OUTPUT] = self.coverage.to_dict()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if data:
            self.coverage.merge(data)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.is_worker:
            return
        terminalreporter.section("mockpipe plan coverage", sep="=")
        source = self.plan.source.format
        terminalreporter.line(f"plan: {self.path} ({source}), {self.coverage.calls} call(s) checked")
        for line in self.coverage.render("text").rstrip("\n").split("\n"):
            terminalreporter.line(line)
        if self.fail_under is None:
            return
        total = self.coverage.events_covered
        if self.failed:
            terminalreporter.line(
                f"FAIL Required mockpipe plan coverage of {self.fail_under:g}% not reached. "
                f"Events covered: {total:.2f}%",
                red=True,
                bold=True,
            )
        else:
            terminalreporter.line(
                f"Required mockpipe plan coverage of {self.fail_under:g}% reached. Events covered: {total:.2f}%",
                green=True,
            )
