"""`mockpipe run -- COMMAND...`: a test suite in any language against a fresh emulator.

Starts a server on a free port of 127.0.0.1, runs the command with `MOCKPIPE_URL` and
`MOCKPIPE_WRITE_KEY` (a fresh key) and the variables apps commonly read for their SDK's host and key,
waits for it, then prints what arrived, writes the reports asked for, and exits with the command's
status, or 1 when the command passed but error-severity violations arrived (`--allow-invalid`: not).
Signals reach the command; the server stops whatever happens.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.emulator.server import MockPipeServer

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from mockpipe.cli.serve import add_server_options

    parser = subparsers.add_parser(
        "run",
        help="run a command (any test suite) against a fresh emulator, then report what arrived",
        description="Start an emulator on a free port, run COMMAND with MOCKPIPE_URL and MOCKPIPE_WRITE_KEY "
        "(and the SDK-style variables the docs list), then print a summary and exit with the command's "
        "status, or 1 when it passed but calls broke the spec.",
        usage="mockpipe run [options] -- COMMAND [ARG...]",
    )
    add_server_options(parser)
    parser.set_defaults(port=0)  # a free port: several runs may go on at once
    parser.add_argument(
        "--allow-invalid", action="store_true", help="exit with the command's status even when calls broke the spec"
    )
    parser.add_argument(
        "--junit-xml", metavar="FILE", help="write a JUnit XML report: one test case per violation code"
    )
    parser.add_argument(
        "--record", metavar="DIR", help="write every call received as JSON lines into DIR/mockpipe-run.jsonl"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    parser.set_defaults(handler=run)


def environment(url: str, write_key: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The command's environment: `base` (the current one) plus the emulator's address and key, under
    mockpipe's names and the names apps commonly read for each SDK's host and write key."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "MOCKPIPE_URL": url,
            "MOCKPIPE_WRITE_KEY": write_key,
            # Customer.io Data Pipelines SDKs (Python `host=`, Node `host:`), Segment's, RudderStack's.
            "CUSTOMERIO_CDP_HOST": url,
            "CUSTOMERIO_CDP_WRITE_KEY": write_key,
            "SEGMENT_HOST": url,
            "SEGMENT_WRITE_KEY": write_key,
            "RUDDERSTACK_DATA_PLANE_URL": url,
            "RUDDERSTACK_WRITE_KEY": write_key,
            "TEST_DATA_PLANE_URL": url,  # read by rudder-sdk-python itself as its default host
        }
    )
    return env


def run(args: argparse.Namespace) -> int:
    from mockpipe.cli.serve import config_from_args
    from mockpipe.emulator.server import MockPipeServer
    from mockpipe.errors import MockpipeError

    command: list[str] = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("mockpipe run: no command given (mockpipe run [options] -- COMMAND ...)", file=sys.stderr)
        return 2
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"mockpipe run: {exc}", file=sys.stderr)
        return 2
    if args.plan_format is not None and args.plan is None:
        print("mockpipe run: --plan-format needs --plan", file=sys.stderr)
        return 2
    write_key = f"mockpipe_{uuid.uuid4().hex[:16]}"
    try:
        server = MockPipeServer(config, plan=args.plan, plan_format=args.plan_format)
    except MockpipeError as exc:  # a plan that cannot be read: nothing started, the command not run
        print(f"mockpipe run: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except MockpipeError as exc:
        print(f"mockpipe run: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"mockpipe run: emulator at {server.url}, write key {write_key}", file=sys.stderr, flush=True)
        status = _run_command(command, environment(server.url, write_key))
    finally:
        server.stop()
    return _report(server, args, status)


def _run_command(command: list[str], env: dict[str, str]) -> int:
    """Run the command to its end, passing on the signals this process gets; its exit status
    (128 + N when a signal N ended it, as shells report it)."""
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as exc:
        print(f"mockpipe run: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        return 127
    previous = {signum: signal.getsignal(signum) for signum in FORWARDED_SIGNALS}

    def forward(signum: int, frame: object) -> None:
        child.send_signal(signum)

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code


def _report(server: MockPipeServer, args: argparse.Namespace, status: int) -> int:
    from mockpipe.relay.recording import call_line
    from mockpipe.testing.report import RunReport

    journal = server.journal
    calls = journal.calls(duplicates=True)
    report = RunReport.of(calls, journal.requests())
    print("mockpipe run: " + report.text().replace("\n", "\nmockpipe run: "), file=sys.stderr)
    coverage = server.plans.coverage()
    if coverage is not None:  # with --plan: what of the plan the command exercised
        lines = coverage.render("text").rstrip("\n").split("\n")
        print("\n".join("mockpipe run: plan " + line for line in lines), file=sys.stderr)
    if args.junit_xml:
        target = Path(args.junit_xml)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(report.junit_xml())
    if args.record:
        directory = Path(args.record)
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "mockpipe-run.jsonl", "wb") as out:
            for call in calls:
                out.write(call_line(call, attempts=journal.attempts(call.id)))
    summary_file = os.environ.get(SUMMARY_ENV)
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as out:
            out.write(report.markdown() + "\n")
    if status != 0:
        return status
    if report.errors and not args.allow_invalid:
        print(
            f"mockpipe run: the command passed, but {report.errors} error(s) arrived (--allow-invalid to ignore)",
            file=sys.stderr,
        )
        return 1
    return 0
