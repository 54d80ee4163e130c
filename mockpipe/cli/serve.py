"""`mockpipe serve`: the emulator on Hypercorn in the foreground, until Ctrl-C or SIGTERM.

Only its handler imports the web stack (Starlette, Hypercorn): building the parser, as every other
command does, loads none of it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from mockpipe.emulator.config import DEFAULT_BODY_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_LISTEN_HOST, ServerConfig
from mockpipe.emulator.origins import is_loopback
from mockpipe.errors import MockpipeError
from mockpipe.spec.limits import MAX_BATCH_BYTES, MAX_CALL_BYTES
from mockpipe.types import REGIONS
from mockpipe.version import __version__

if TYPE_CHECKING:
    from hypercorn.config import Config as HypercornConfig

    from mockpipe.emulator.app import EmulatorApp
    from mockpipe.emulator.emulator import Emulator

# `mockpipe.journal.store.SYNCHRONOUS` (a test keeps them equal), not imported: sqlite3 would load with the parser.
STORE_SYNC = ("normal", "full")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options that shape how the emulator answers (shared by every command that starts one)."""
    parser.add_argument("--host", default=DEFAULT_LISTEN_HOST, help="address to bind (default %(default)s)")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="let the inspection API and web UI also answer requests to this host name or address (repeatable; "
        "* for any, e.g. in a container behind its own firewall); by default only localhost, loopback addresses "
        "and --host answer: other names are refused, which stops DNS rebinding",
    )
    parser.add_argument(
        "--port", type=port_number, default=4242, help="port to bind; 0 picks a free one (default %(default)s)"
    )
    parser.add_argument(
        "--write-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only this write key (repeatable); by default any non-empty key is accepted",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="answer every spec violation 400 and auth failure 401, as X-Strict-Mode: 1 does",
    )
    parser.add_argument("--region", choices=REGIONS, default="us", help="region to emulate (default %(default)s)")
    parser.add_argument(
        "--max-call-bytes",
        type=int,
        default=MAX_CALL_BYTES,
        metavar="N",
        help="limit per call and per batch item, after decompression (default %(default)s)",
    )
    parser.add_argument(
        "--max-batch-bytes",
        type=int,
        default=MAX_BATCH_BYTES,
        metavar="N",
        help="limit per request body, after decompression (default %(default)s)",
    )
    parser.add_argument(
        "--reject-malformed",
        action="store_true",
        help="answer 400 to unreadable or oversized bodies even when permissive (as Segment does)",
    )
    parser.add_argument(
        "--max-calls",
        type=int,
        default=None,
        metavar="N",
        help="keep at most N calls in memory, dropping the oldest (default: unbounded)",
    )
    parser.add_argument(
        "--body-timeout",
        type=seconds,
        default=DEFAULT_BODY_TIMEOUT,
        metavar="S",
        help="drop a tracking request whose body takes longer to arrive, journaled as request.incomplete "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=seconds,
        default=DEFAULT_KEEP_ALIVE_TIMEOUT,
        metavar="S",
        help="close an idle keep-alive connection after S seconds (default %(default)s)",
    )
    parser.add_argument(
        "--no-idle-processing",
        dest="process_when_idle",
        action="store_false",
        help="leave the calls answered ahead of processing (permissive ones) unprocessed until something reads "
        "them, instead of processing them once the server is quiet (benchmarks: no work between two runs)",
    )
    add_plan_options(parser)


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    """--plan and --plan-format: the tracking plan every call is checked against."""
    from mockpipe.cli.plan import add_plan_format_option

    group = parser.add_argument_group("tracking plan")
    group.add_argument(
        "--plan",
        metavar="PATH",
        help="check every call against this tracking plan (a file or a folder: mockpipe's own format, "
        "Segment, RudderStack or JSON Schema files); plan violations join the journal like spec "
        "violations; reloaded when it changes on disk",
    )
    add_plan_format_option(group)


def log_plan_reloads() -> None:
    """Print the plan's reloads (and a broken plan file) on stderr, as mockpipe's other lines."""
    import logging

    plans_log = logging.getLogger("mockpipe.plans")
    if not plans_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("mockpipe: %(message)s"))
        plans_log.addHandler(handler)
        plans_log.setLevel(logging.INFO)
        plans_log.propagate = False


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range (0-65535)")
    return port


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be positive, not {text}")
    return value


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host,
        port=args.port,
        write_keys=frozenset(args.write_key),
        strict=args.strict,
        region=args.region,
        max_call_bytes=args.max_call_bytes,
        max_batch_bytes=args.max_batch_bytes,
        reject_malformed=args.reject_malformed,
        max_calls=args.max_calls,
        allow_hosts=frozenset(args.allow_host),
        body_timeout=args.body_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        process_when_idle=args.process_when_idle,
    )


def add_offline_options(parser: argparse.ArgumentParser) -> None:
    """--store, --record and --forward: the options of `Emulator.build` that keep, record and relay calls."""
    group = parser.add_argument_group("offline development")
    group.add_argument(
        "--store",
        metavar="FILE",
        help="keep the journal in this SQLite file: it survives restarts and kill -9 (default: in memory)",
    )
    group.add_argument(
        "--store-sync",
        choices=STORE_SYNC,
        default="normal",
        help="normal: an answered call survives the process being killed; full: also an OS "
        "crash or power cut, with an fsync per request (default %(default)s)",
    )
    group.add_argument(
        "--record",
        metavar="FILE",
        help="append every accepted call to this JSON-lines file as it arrives (a bare file "
        "name goes into recordings/)",
    )
    group.add_argument(
        "--forward",
        metavar="URL",
        help="relay every accepted call to this Data Pipelines endpoint (the real service or "
        "another mockpipe), retrying 429 and 5xx; with --store, what a crash or a stop left "
        "undelivered is sent at the next start with the same --forward",
    )
    group.add_argument("--forward-key", metavar="KEY", help="write key for --forward (default: each call's own)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the emulator",
        description="Run the emulator until Ctrl-C or SIGTERM. It prints the URL it listens on.",
    )
    add_server_options(parser)
    add_offline_options(parser)
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    import asyncio  # the event loop, Hypercorn and the app load only when a server starts

    # The web stack loads here, not with the parser: `mockpipe validate` needs none of it.
    from mockpipe.emulator.app import create_app
    from mockpipe.emulator.emulator import Emulator
    from mockpipe.emulator.server import base_url, hypercorn_config, listen_socket
    from mockpipe.emulator.webui import UI_PATH

    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 2
    if args.forward_key and args.forward is None:  # named as the command line spells it
        print("mockpipe: --forward-key needs --forward", file=sys.stderr)
        return 1
    from mockpipe.cli.progress import RestoreProgress
    from mockpipe.journal.store import StoreError, StoreLockedError
    from mockpipe.plans.model import PlanError

    if args.plan_format is not None and args.plan is None:
        print("mockpipe: --plan-format needs --plan", file=sys.stderr)
        return 2
    try:
        emulator = Emulator.build(
            config,
            store=args.store,
            store_sync=args.store_sync,
            record=args.record,
            forward=args.forward,
            forward_key=args.forward_key or None,  # "" is each call's own key, as no key is
            restore_progress=RestoreProgress(args.store) if args.store else None,
            plan=args.plan,
            plan_format=args.plan_format,
        )
    except PlanError as exc:  # names the file, the place in it and what was expected; nothing was started
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:  # not a store, damaged, or of another version: refused untouched (2, as a usage error)
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, StoreLockedError) else 2
    except (ValueError, OSError, MockpipeError) as exc:
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 1
    try:
        sock = listen_socket(config.host, config.port)
    except OSError as exc:
        print(f"mockpipe: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        emulator.close()
        return 1
    host, port = sock.getsockname()[:2]
    url = base_url(host, port)
    # Bound to every address: the inspection API answers a loopback Host, not 0.0.0.0 (see `HostPolicy`).
    local_url = base_url("::1" if host == "::" else "127.0.0.1", port) if host in ("0.0.0.0", "::") else url

    def announce() -> None:
        keys = ", ".join(sorted(config.write_keys)) or "any"
        mode = "strict" if config.strict else "permissive"
        print(
            f"mockpipe {__version__} listening on {url} (region {config.region}, {mode}, write keys: {keys})",
            flush=True,
        )
        print(
            f"  send calls to {url}/v1/track (and identify, page, screen, group, alias, batch); "
            f"inspect them at {local_url}/mockpipe/calls",
            flush=True,
        )
        print(f"  open the web UI at {local_url}{UI_PATH} in a browser", flush=True)
        print(f"  {_inspection_note(config)}", flush=True)
        for note in emulator.notes:
            print(f"  {note}", flush=True)

    log_plan_reloads()
    app = create_app(emulator=emulator, on_ready=announce)
    _freeze_start_up_objects()
    try:
        asyncio.run(
            _serve_until_signalled(app, emulator, hypercorn_config(sock, keep_alive_timeout=config.keep_alive_timeout))
        )
    finally:
        for line in emulator.close():
            print(line, flush=True)
    print(f"mockpipe stopped after {len(emulator.journal)} call(s)", flush=True)
    return 0


def _freeze_start_up_objects() -> None:
    """Leave what start-up built (modules, the app, a restored journal) out of the garbage collector's
    full collections: they live as long as the server, and walking them at every full collection is a
    pause of the event loop (issue 13: one took 116 ms during ten giant waits on 300k calls)."""
    import gc

    gc.collect()  # nothing collectable is frozen
    gc.freeze()


def _inspection_note(config: ServerConfig) -> str:
    """Who the inspection API and UI answer (the tracking endpoints answer everyone who reaches the port)."""
    if "*" in config.allow_hosts:
        return "the inspection API and UI answer any Host (--allow-host *); pages on other origins stay refused"
    names = ["localhost"]
    if config.host not in ("0.0.0.0", "::") and not is_loopback(config.host):
        names.append(config.host)
    names.extend(sorted(config.allow_hosts))
    return f"the inspection API and UI answer requests to {', '.join(names)} only (--allow-host NAME for another)"


async def _serve_until_signalled(app: EmulatorApp, emulator: Emulator, config: HypercornConfig) -> None:
    import asyncio
    import signal

    from mockpipe.emulator.server import serve_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        emulator.begin_shutdown()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    await serve_app(app, config, stop.wait)
