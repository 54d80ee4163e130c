"""`mockpipe bench`: its options here, the benchmark itself (`mockpipe.bench`) loaded only when it runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from mockpipe.bench.options import BenchOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark mockpipe against a bare Starlette app, a naive recorder and peers",
        description="Run a bare Starlette app, a naive recorder and mockpipe, each on one Hypercorn worker in "
        "its own process, and pytest-httpserver and WireMock where installed, under the same load (wrk if "
        "on PATH, else a built-in generator), with fresh messageIds and with resends (the same body every "
        "time), single calls and batches; print rates, latencies and memory with ratios, then the in-process "
        "figures and the first reads after a burst of calls, each against its target.",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="seconds of load per server and scenario (default 10; wrk rounds to whole seconds)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        metavar="N",
        help="turns the servers take, each for duration / N seconds (default 5)",
    )
    parser.add_argument(
        "--connections", type=int, default=None, metavar="N", help="keep-alive connections (default 16)"
    )
    parser.add_argument(
        "--driver",
        choices=("auto", "wrk", "builtin"),
        default=None,
        help="load generator (default: wrk when on PATH, else builtin; builtin with --quick)",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=None,
        metavar="N",
        help="processes of the built-in generator (default 1)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=None,
        metavar="NAME",
        help="run only this HTTP scenario: single, batch, single-resend or batch-resend (repeatable; default: all)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        default=None,
        metavar="NAME",
        help="compare with this peer: pytest-httpserver or wiremock (repeatable; default: both, none with --quick); "
        "a peer not installed is skipped with the reason",
    )
    parser.add_argument("--no-peers", action="store_true", help="leave the peers out")
    parser.add_argument(
        "--burst-events",
        type=int,
        default=None,
        metavar="N",
        help="events sent in 100-event batches before the first read of calls and of people is timed "
        "(default 100,000; 10,000 with --quick)",
    )
    parser.add_argument("--no-burst", action="store_true", help="leave out the read after a burst")
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds in all, for CI smoke runs: the figures are rough"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=bench)


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    from mockpipe.bench.options import BenchError, BenchOptions
    from mockpipe.bench.peers import PEERS
    from mockpipe.bench.scenarios import SCENARIOS

    overrides: dict[str, Any] = {}
    for name in ("duration", "rounds", "connections", "driver", "client_processes", "burst_events"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    unknown = sorted(set(args.scenario or ()) - set(SCENARIOS))
    if unknown:
        raise BenchError(f"unknown --scenario {', '.join(unknown)}; known: {', '.join(sorted(SCENARIOS))}")
    if args.scenario:
        overrides["scenarios"] = tuple(dict.fromkeys(args.scenario))
    unknown = sorted(set(args.peer or ()) - set(PEERS))
    if unknown:
        raise BenchError(f"unknown --peer {', '.join(unknown)}; known: {', '.join(PEERS)}")
    if args.peer:
        overrides["peers"] = tuple(dict.fromkeys(args.peer))
    if args.no_peers:
        overrides["peers"] = ()
    if overrides.get("burst_events", 1) <= 0:
        raise BenchError("--burst-events must be positive (--no-burst leaves the burst out)")
    if args.no_burst:
        overrides["burst_events"] = 0
    if overrides.get("duration", 1) <= 0 or overrides.get("connections", 1) <= 0 or overrides.get("rounds", 1) <= 0:
        raise BenchError("--duration, --rounds and --connections must be positive")
    return BenchOptions.quick(**overrides) if args.quick else BenchOptions(**overrides)


def bench(args: argparse.Namespace) -> int:
    from mockpipe.bench.runner import format_report, run  # the load generator loads only now

    try:
        options = options_from_args(args)
        report = run(options, progress=lambda text: print(f"mockpipe bench: {text}", file=sys.stderr, flush=True))
    except MockpipeError as exc:
        print(f"mockpipe bench: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0
