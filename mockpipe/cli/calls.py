"""`mockpipe calls`: the calls of a running server as a table (or JSON lines), and with `--follow`
the new ones as they arrive, across restarts of the server.

httpx and rich load only when the command runs (`calls_table`, `inspection_client`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

from mockpipe.cli.options import add_filter_options, add_url_option, filter_params
from mockpipe.cli.output import reader_left

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from mockpipe.cli.inspection_client import InspectionClient
    from mockpipe.types import JSONObject

RECONNECT_SECONDS = (0.1, 1.0)  # --follow's first wait for a server that went away, and the longest
BATCH = 1000  # calls laid out at a time (a page of the inspection API)


class Rows(Protocol):
    """Where the calls are shown (`calls_table`)."""

    def header(self) -> None: ...

    def show(self, calls: Sequence[JSONObject]) -> None: ...


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calls = subparsers.add_parser(
        "calls",
        help="show the calls of a running server as a table",
        description="Show the calls a running mockpipe received, as a table (or JSON lines), oldest first; "
        "--follow keeps showing new ones as they arrive, across restarts of the server.",
    )
    add_url_option(calls)
    add_filter_options(calls)
    calls.add_argument("--follow", "-f", action="store_true", help="keep showing new calls as they arrive")
    calls.add_argument("--json", action="store_true", help="one JSON object per call (the recording format)")
    calls.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="show only the newest N calls, as tail does (then follow; 0: only calls from now on)",
    )
    calls.set_defaults(handler=run_calls)


def run_calls(args: argparse.Namespace) -> int:
    from mockpipe.cli.inspection_client import InspectionClient, InspectionError

    try:
        with InspectionClient(args.url) as client:
            _list(client, filter_params(args), _rows(args), follow=args.follow, limit=args.limit)
    except InspectionError as exc:
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        reader_left()
    return 0


def _rows(args: argparse.Namespace) -> Rows:
    from mockpipe.cli.calls_table import JsonRows, PlainRows, TerminalRows

    out = sys.stdout
    if args.json:
        return JsonRows(out)
    width = shutil.get_terminal_size().columns
    return TerminalRows(out, width) if out.isatty() else PlainRows(out, width)


def _list(client: InspectionClient, params: dict[str, str], rows: Rows, *, follow: bool, limit: int | None) -> None:
    cursor = _Cursor()

    def show(calls: Sequence[JSONObject]) -> None:
        if calls:
            rows.show(calls)
            cursor.move(calls[-1])

    if follow:
        cursor.instance = client.instance()  # before listing: a restart from now on is noticed
    batches = _batches(client.calls(params) if limit is None else client.newest(params, limit))
    first: list[JSONObject] = next(batches, [])  # asked before the header: an unreachable server is one line, no table
    rows.header()
    show(first)
    for batch in batches:
        show(batch)
    if not follow:
        return
    if limit == 0:  # only the calls from now on
        for call in client.newest(params, 1):
            cursor.move(call)
    _follow(client, params, cursor, show)


def _batches(calls: Iterable[JSONObject]) -> Iterator[list[JSONObject]]:
    iterator = iter(calls)
    while batch := list(islice(iterator, BATCH)):
        yield batch


class _Cursor:
    """Where `calls --follow` is: the last call shown (its id, and what tells it apart from another
    call of that id), and the run of the server it came from."""

    def __init__(self) -> None:
        self.instance: str | None = None
        self.id = 0
        self.mark: tuple[Any, ...] | None = None

    def move(self, call: JSONObject) -> None:
        self.id = int(call["id"])
        self.mark = _mark(call)

    def rebase(self, client: InspectionClient, instance: str | None) -> None:
        """The server was restarted (a new `instance`). With a store it reloaded the calls shown so far
        and its ids go on; in memory it starts from call 1 again, below the cursor: start over."""
        self.instance = instance
        if self.mark is None:
            return
        found = client.call(self.id)
        if found is not None and _mark(found) == self.mark:
            _say(f"mockpipe: {client.url} restarted and kept its calls; following on after call {self.id}")
            return
        _say(f"mockpipe: {client.url} restarted with a new journal; showing its calls from the first")
        self.id, self.mark = 0, None


def _mark(call: JSONObject) -> tuple[Any, ...]:
    return call.get("id"), call.get("messageId"), call.get("receivedAt")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _follow(
    client: InspectionClient, params: dict[str, str], cursor: _Cursor, show: Callable[[list[JSONObject]], None]
) -> None:
    """Long-poll for calls after the cursor until interrupted, riding out restarts of the server."""
    from mockpipe.cli.inspection_client import InspectionError

    delay: float | None = None  # while the server cannot be reached: how long until the next try
    while True:
        try:
            # Asked before every poll: the restart of a fast server fits between two of them.
            instance = client.instance()
            if instance != cursor.instance:
                cursor.rebase(client, instance)
            calls, answered_by = client.wait(cursor.id, params, instance=cursor.instance)
        except InspectionError as exc:
            if delay is None:
                _say(f"mockpipe: {exc}; trying again until it answers")
                delay = RECONNECT_SECONDS[0]
            time.sleep(delay)
            delay = min(2 * delay, RECONNECT_SECONDS[1])
            continue
        delay = None
        if answered_by is not None and answered_by != cursor.instance:  # restarted since the look above
            continue  # its calls are numbered anew: rebased on the next turn
            continue
        show([call for call in calls if int(call["id"]) > cursor.id])
