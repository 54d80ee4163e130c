"""The peers of `mockpipe bench`: each skipped with its reason where missing, a column of its own where
present; the built-in generator drives servers that close after each answer or answer in chunks."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import TYPE_CHECKING

import pytest

from mockpipe.bench import fixture, http_runs, loadgen, microbench, peers, runner as bench, targets
from mockpipe.bench.http_runs import HttpRun, run_scenario
from mockpipe.bench.options import BenchOptions
from mockpipe.bench.peers import PeerError, unavailable, wiremock_root
from mockpipe.bench.report import BenchReport
from mockpipe.bench.scenarios import SCENARIOS

if TYPE_CHECKING:
    from pathlib import Path

HTTPSERVER = importlib.util.find_spec("pytest_httpserver") is not None


def test_a_missing_peer_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("mockpipe.bench.peers.importlib.util.find_spec", lambda name: None)
    assert "pip install pytest-httpserver" in (unavailable("pytest-httpserver") or "")
    monkeypatch.setenv("MOCKPIPE_WIREMOCK_JAR", str(tmp_path / "absent.jar"))
    monkeypatch.setattr("mockpipe.bench.peers.shutil.which", lambda name: "/usr/bin/java")
    reason = unavailable("wiremock") or ""
    assert "no WireMock standalone jar" in reason and "absent.jar" in reason
    monkeypatch.setattr("mockpipe.bench.peers.shutil.which", lambda name: None)
    assert unavailable("wiremock") == "java is not on PATH (WireMock runs on the JVM)"
    assert "unknown peer" in (unavailable("nobody") or "")


def test_the_jar_is_looked_for_where_the_install_script_puts_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MOCKPIPE_WIREMOCK_JAR", raising=False)
    monkeypatch.setenv("MOCKPIPE_BENCH_HOME", str(tmp_path))
    assert peers.wiremock_jar() is None
    build = tmp_path / "node" / "node_modules" / "wiremock" / "build"
    build.mkdir(parents=True)
    (build / "wiremock-standalone-3.13.2.jar").write_bytes(b"")
    assert peers.wiremock_jar() == build / "wiremock-standalone-3.13.2.jar"
    stubs = sorted(path.name for path in (wiremock_root(tmp_path / "root") / "mappings").iterdir())
    assert stubs == ["batch.json", "track.json"]


def test_a_run_without_a_peer_reports_it_skipped_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner asks each peer whether it can run; one that cannot gets no column and says why."""
    monkeypatch.setattr(bench, "unavailable", lambda name: f"{name} is not here (test)")
    monkeypatch.setattr(bench, "run_scenario", lambda name, options, **kwargs: _fake_runs(name, kwargs["targets"]))
    for name in ("wait_delay", "start_stop", "rates", "journal_memory", "startup_time"):
        monkeypatch.setattr(microbench, name, lambda *args, **kwargs: None)
    monkeypatch.setattr(bench, "journal_rates", lambda *args: None)
    monkeypatch.setattr(fixture, "fixture_overhead", lambda *args, **kwargs: None)
    options = BenchOptions.quick(scenarios=("batch",), peers=("pytest-httpserver", "wiremock"))
    report = bench.run(options)
    assert {run.target for run in report.http} == {"bare", "naive", "mockpipe"}
    assert report.skipped == {
        "pytest-httpserver": "pytest-httpserver is not here (test)",
        "wiremock": "wiremock is not here (test)",
    }
    moonshots = [check for check in report.checks() if "moonshot" in check.figure]
    assert [(check.measured, check.status) for check in moonshots] == [
        ("pytest-httpserver is not here (test)", "skipped"),
        ("wiremock is not here (test)", "skipped"),
    ]
    text = bench.format_report(report)
    assert "(d) pytest-httpserver: skipped, pytest-httpserver is not here (test)" in text
    assert "(e) WireMock: skipped, wiremock is not here (test)" in text
    assert report.to_dict()["skipped"] == report.skipped


def _fake_runs(name: str, targets: tuple[str, ...]) -> http_runs.ScenarioRuns:
    events = SCENARIOS[name].events
    runs = [
        HttpRun(name, target, 100.0, 100.0 * events, 2.0, 4.0, 30.0, 40.0, 250.0, 100, 0, "built-in")
        for target in targets
    ]
    return http_runs.ScenarioRuns(runs, {})


def test_a_peer_present_gets_its_column_and_its_moonshot_line() -> None:
    runs = [
        *_fake_runs("batch-resend", ("bare", "naive", "mockpipe")).runs,
        HttpRun("batch-resend", "pytest-httpserver", 50.0, 5000.0, 2.0, 4.0, 30.0, 40.0, 250.0, 100, 0, "built-in"),
    ]
    options = BenchOptions.quick(scenarios=("batch-resend",), peers=("pytest-httpserver", "wiremock"))
    report = BenchReport(options, "builtin", http=runs, skipped={"wiremock": "java is not on PATH"})
    text = " ".join(bench.format_report(report).split())
    assert "| (d) pytest-httpserver | 50.0 | 5,000 |" in text
    assert "| (c) ÷ (d) | 2.00x | 2.00x |" in text
    assert "batches, resends: mockpipe events/s ÷ pytest-httpserver (moonshot) | 2.00 | > 1 | met" in text
    assert "batches, resends: mockpipe events/s ÷ WireMock (moonshot) | java is not on PATH | > 1 | skipped" in text
    assert report.to_dict()["ratios"]["batch-resend:mockpipe/pytest-httpserver"] == 2.0


def test_a_peer_that_does_not_start_is_left_out_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    real = targets.start_target

    def start(name: str, **kwargs: object) -> object:
        if name == "wiremock":
            raise PeerError("WireMock exited (1): no JVM today")
        return real(name)

    monkeypatch.setattr(http_runs, "start_target", start)
    options = BenchOptions.quick(duration=0.2, warmup=0.0)
    done = run_scenario("single-resend", options, driver="builtin", targets=("bare", "wiremock"))
    assert [run.target for run in done.runs] == ["bare"]
    assert done.runs[0].requests > 0
    assert done.skipped == {"wiremock": "WireMock exited (1): no JVM today"}


@pytest.mark.skipif(not HTTPSERVER, reason="pytest-httpserver is not installed (it is in the dev group)")
def test_pytest_httpserver_is_driven_like_the_others() -> None:
    options = BenchOptions.quick(duration=0.3, warmup=0.0)
    done = run_scenario("single", options, driver="builtin", targets=("pytest-httpserver",))
    [run] = done.runs
    assert (run.target, run.errors, done.skipped) == ("pytest-httpserver", 0, {})
    assert run.requests > 1  # it closes after each answer: the generator opened new connections


async def _serve_once(answer: bytes, *, close: bool) -> tuple[asyncio.Server, int]:
    """A server answering every request with `answer`, closing the connection after it if `close`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                writer.write(answer)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(
    ("answer", "close"),
    [
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", False),
    ],
    ids=["closes-after-each-answer", "chunked"],
)
def test_the_generator_reads_every_kind_of_answer_the_peers_give(answer: bytes, close: bool) -> None:
    async def run() -> dict[str, object]:
        server, port = await _serve_once(answer, close=close)
        async with server:
            return await loadgen.generate(SCENARIOS["single"], "127.0.0.1", port, connections=2, duration=0.3)

    report = asyncio.run(run())
    assert report["errors"] == 0
    assert isinstance(report["requests"], int) and report["requests"] > 2
