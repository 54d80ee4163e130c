"""`mockpipe export` (the journal as JSON lines, from a running server or a store file) and
`mockpipe replay` (a recording sent to any Data Pipelines endpoint).

The journal, the store, httpx and the relay load only when one of them runs.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from mockpipe.cli.options import add_filter_options, add_url_option, filter_params
from mockpipe.cli.output import reader_left
from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Iterator


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = subparsers.add_parser(
        "export",
        help="write the journal, or a filtered part of it, as JSON lines",
        description="Write the calls of a running server (--url) or of a store file (--store) as JSON lines, "
        "one journaled call per line: the format `serve --record` writes and `replay` reads.",
    )
    source = export.add_mutually_exclusive_group()
    add_url_option(source)
    source.add_argument("--store", metavar="FILE", help="read a store file (of `serve --store`) instead")
    add_filter_options(export)
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    export.set_defaults(handler=run_export)

    replay = subparsers.add_parser(
        "replay",
        help="send a recording to a Data Pipelines endpoint",
        description="Send the calls of a recording (journaled calls as `export` and `serve --record` write them, "
        "plain payloads, or SDK captures) to any Data Pipelines endpoint as /v1/batch requests "
        "within the size limits, retrying 429 and 5xx. Exits 1 if any call was rejected.",
    )
    replay.add_argument(
        "file",
        metavar="FILE",
        help="the recording ('-': standard input; a bare name not found here is looked for in recordings/)",
    )
    replay.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the endpoint: its base URL (https://cdp.customer.io, http://127.0.0.1:4242) or its /v1/batch URL",
    )
    replay.add_argument("--write-key", metavar="KEY", help="send every call with this key (default: each line's own)")
    replay.add_argument("--rate", type=float, metavar="N", help="at most N calls per second")
    replay.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar on standard error"
    )
    replay.set_defaults(handler=run_replay)


# -- mockpipe export -----------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    params = filter_params(args)
    try:
        with _output(args.output) as out:
            count = _export_store(args.store, params, out) if args.store is not None else _export(args.url, params, out)
    except BrokenPipeError:
        reader_left()
        return 0
    except (MockpipeError, ValueError, OSError) as exc:
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 1
    print(f"exported {count} call(s)" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def _export(url: str, params: dict[str, str], out: IO[bytes]) -> int:
    import orjson

    from mockpipe.cli.inspection_client import InspectionClient

    count = 0
    with InspectionClient(url) as client:
        for call in client.calls(params):
            out.write(orjson.dumps(call) + b"\n")
            count += 1
    return count


def _export_store(path: str, params: dict[str, str], out: IO[bytes]) -> int:
    from mockpipe.journal.journal import CallQuery
    from mockpipe.journal.store import Store
    from mockpipe.relay.recording import call_line

    store = Store(path, readonly=True)
    try:
        journal = store.open_journal()
    finally:
        store.close()
    count = 0
    for call in journal.calls(CallQuery.from_params(params)):
        out.write(call_line(call, attempts=journal.attempts(call.id)))
        count += 1
    return count


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[bytes]]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with open(path, "wb") as out:
        yield out


# -- mockpipe replay -----------------------------------------------------------------------------


def run_replay(args: argparse.Namespace) -> int:
    from mockpipe.relay.replay import Progress, replay

    try:
        with _input(args.file) as (source, size):
            progress = Progress(size) if args.progress else None
            notify = progress.note if progress is not None else _tell
            try:
                report = replay(
                    source, args.to, write_key=args.write_key, rate=args.rate, progress=progress, notify=notify
                )
            finally:
                if progress is not None:
                    progress.close()
    except ValueError as exc:
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mockpipe: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


def _tell(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _input(name: str) -> Iterator[tuple[IO[bytes], int | None]]:
    """The recording and its size in bytes (None for standard input)."""
    if name == "-":
        yield sys.stdin.buffer, None
        return
    path = Path(name)
    if not path.exists():
        from mockpipe.relay.recording import recording_path

        if recording_path(name).exists():
            path = recording_path(name)
    with open(path, "rb") as source:
        yield source, path.stat().st_size
