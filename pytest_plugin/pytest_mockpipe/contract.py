"""The contract snapshot: what the session's tests sent, compared with the committed contract file.

Each test's calls are observed when its `mockpipe` fixture is torn down (so the file can say which
tests sent an event), and at the end of the session every other call the fixture's servers received.
Under xdist each worker sends its observations to the controller in `workeroutput`; the controller
merges them (sums: the order workers finish in does not matter) and compares the contract with the
file: no file or `--mockpipe-contract-update` writes it, the same contract says nothing, a different
one prints the changes, breaking ones first, and fails the session (`--mockpipe-contract-fail-on`).
A session whose tests failed, or that deselected some, sent less than the suite does: it is not compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mockpipe.contracts.diff import ContractDiff
    from mockpipe.contracts.infer import Contract
    from mockpipe.emulator.server import MockPipeServer
    from pytest_mockpipe.fixture import MockPipe

PLUGIN_NAME = "mockpipe-contract"
OUTPUT_KEY = "mockpipe_contract"


class ContractSnapshot:
    """A plugin object, registered when a contract file is configured."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.update: bool = config.getoption("mockpipe_contract_update")
        self.sources: bool = config.getoption("mockpipe_contract_sources")
        self.fail_on: str = config.getoption("mockpipe_contract_fail_on")
        self._contract: Contract | None = None
        self._seen: dict[int, set[int]] = {}  # id(server) -> ids of the calls observed already
        self.deselected = 0
        self.messages: list[str] = []
        self.diff: ContractDiff | None = None

    @property
    def contract(self) -> Contract:
        if self._contract is None:
            from mockpipe.contracts.infer import Contract

            self._contract = Contract()
        return self._contract

    # -- observing (every process: the controller without xdist, each worker with it) ----------------

    def observe_views(self, views: Iterable[MockPipe], nodeid: str) -> None:
        """A test's calls, with the test as their source."""
        for view in views:
            self._observe(view.server, view.server.records(write_key=view.write_key, accepted=True), nodeid)

    def observe_servers(self, servers: Iterable[MockPipeServer]) -> None:
        """The calls no test's view took in: other write keys, calls after a test's teardown."""
        for server in servers:
            self._observe(server, server.records(accepted=True), None)

    def _observe(self, server: MockPipeServer, records: Iterable[Any], source: str | None) -> None:
        seen = self._seen.setdefault(id(server), set())
        for call in records:
            if call.id not in seen:
                seen.add(call.id)
                self.contract.observe(call.payload, source)

    # -- hooks -----------------------------------------------------------------------------------

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist's controller: merge a worker's observations as it finishes."""
        output = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
        if output is None:
            return
        from mockpipe.contracts.infer import Contract

        self.contract.merge(Contract.from_data(output["contract"]))
        # Every worker collects (and deselects) the whole suite: the counts are the same, not parts.
        self.deselected = max(self.deselected, int(output.get("deselected", 0)))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller compares
            workeroutput[OUTPUT_KEY] = {"contract": self.contract.to_data(), "deselected": self.deselected}
            return
        if session.testsfailed or exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            self.messages.append(f"{self._shown()} not compared: the session failed, so it sent less than it should")
            return
        if self.deselected:
            self.messages.append(f"{self._shown()} not compared: {self.deselected} test(s) deselected")
            return
        try:
            failed = self._compare()
        except OSError as exc:  # a folder at PATH, no permission: said, and the session fails
            self.messages.append(f"cannot write or read {self._shown()}: {exc.strerror or exc}")
            failed = True
        if failed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.messages:
            return
        failing = self.diff is not None and self.diff.fails(self.fail_on) and not self.update
        terminalreporter.section("mockpipe contract", sep="=", red=failing, yellow=not failing)
        for message in self.messages:
            for line in message.splitlines():
                terminalreporter.line(line)

    # -- comparing -------------------------------------------------------------------------------

    def _shown(self) -> str:
        try:
            return str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            return str(self.path)

    def _compare(self) -> bool:
        """Write or compare the file; True when the session must fail."""
        from mockpipe.contracts.diff import diff_plans
        from mockpipe.contracts.report import render_diff
        from mockpipe.plans import PlanError, load_plan

        text = self.contract.render(sources=self.sources)
        if not self.path.exists():
            self._write(text)
            self.messages.append(f"wrote {self._shown()}: a contract of {len(self.contract.events)} event(s)")
            return False
        try:
            committed = load_plan(self.path)
        except PlanError as exc:
            if self.update:
                self._write(text)
                self.messages.append(f"rewrote {self._shown()}, which could not be read ({exc})")
                return False
            self.messages.append(f"{exc}\nfix it, or rewrite it with --mockpipe-contract-update")
            return True
        self.diff = diff_plans(committed, self.contract.to_plan())
        if self.update:
            if self.diff or self.path.read_text(encoding="utf-8") != text:
                self._write(text)
                self.messages.append(f"updated {self._shown()}\n{render_diff(self.diff, 'text')}".rstrip())
            return False
        if not self.diff:
            return False
        verdict = "fails" if self.diff.fails(self.fail_on) else f"passes (--mockpipe-contract-fail-on {self.fail_on})"
        self.messages.append(
            f"{self._shown()} differs from what the tests sent; the session {verdict}.\n"
            f"{render_diff(self.diff, 'text')}"
            "Review the changes; accept them with --mockpipe-contract-update."
        )
        return self.diff.fails(self.fail_on)

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(text, encoding="utf-8")
