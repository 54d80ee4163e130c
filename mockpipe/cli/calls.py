"""The journal commands: `mockpipe calls` (a terminal table, following new calls), `mockpipe export`
(JSON lines, from a running server or a store file) and `mockpipe replay` (a recording to any endpoint)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from mockpipe.errors import MockpipeError
from mockpipe.journal.journal import CallQuery
from mockpipe.relay.recording import call_line, recording_path
from mockpipe.relay.replay import Progress, replay

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mockpipe.types import JSONObject

DEFAULT_URL = "http://127.0.0.1:4242"
FOLLOW_POLL_SECONDS = 30.0  # each long-poll of --follow; the server answers as soon as a call lands
RECONNECT_SECONDS = (0.1, 1.0)  # --follow's first wait for a server that went away, and the longest
PAGE = 1000

# Filter options and the inspection API's query parameters they become.
_FILTERS = (
    ("--write-key", "writeKey"),
    ("--type", "type"),
    ("--event", "event"),
    ("--name", "name"),
    ("--user-id", "userId"),
    ("--anonymous-id", "anonymousId"),
    ("--message-id", "messageId"),
)


class InspectionError(MockpipeError):
    """A running mockpipe could not be reached, or answered an error (`status`)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calls = subparsers.add_parser(
        "calls",
        help="show the calls of a running server as a table",
        description="Show the calls a running mockpipe received, as a table (or JSON lines), oldest first; "
        "--follow keeps showing new ones as they arrive, across restarts of the server.",
    )
    _add_url(calls)
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

    export = subparsers.add_parser(
        "export",
        help="write the journal, or a filtered part of it, as JSON lines",
        description="Write the calls of a running server (--url) or of a store file (--store) as JSON lines, "
        "one journaled call per line: the format `serve --record` writes and `replay` reads.",
    )
    source = export.add_mutually_exclusive_group()
    _add_url(source)
    source.add_argument("--store", metavar="FILE", help="read a store file (of `serve --store`) instead")
    add_filter_options(export)
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    export.set_defaults(handler=run_export)

    replay_parser = subparsers.add_parser(
        "replay",
        help="send a recording to a Data Pipelines endpoint",
        description="Send the calls of a recording (journaled calls as `export` and `serve --record` write them, "
        "plain payloads, or SDK captures) to any Data Pipelines endpoint as /v1/batch requests "
        "within the size limits, retrying 429 and 5xx. Exits 1 if any call was rejected.",
    )
    replay_parser.add_argument(
        "file",
        metavar="FILE",
        help="the recording ('-': standard input; a bare name not found here is looked for in recordings/)",
    )
    replay_parser.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the endpoint: its base URL (https://cdp.customer.io, http://127.0.0.1:4242) or its /v1/batch URL",
    )
    replay_parser.add_argument(
        "--write-key", metavar="KEY", help="send every call with this key (default: each line's own)"
    )
    replay_parser.add_argument("--rate", type=float, metavar="N", help="at most N calls per second")
    replay_parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar on standard error"
    )
    replay_parser.set_defaults(handler=run_replay)


def _add_url(parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("MOCKPIPE_URL", DEFAULT_URL),
        help="the running mockpipe (default: $MOCKPIPE_URL or %(default)s)",
    )


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters")
    for flag, param in _FILTERS:
        group.add_argument(flag, dest=f"filter_{param}", metavar="VALUE")
    validity = group.add_mutually_exclusive_group()
    validity.add_argument(
        "--valid", dest="filter_valid", action="store_const", const="true", help="only calls that break no rule"
    )
    validity.add_argument(
        "--invalid", dest="filter_valid", action="store_const", const="false", help="only calls that break a rule"
    )
    group.add_argument(
        "--duplicates",
        dest="filter_duplicates",
        action="store_const",
        const="true",
        help="include the resends of a messageId already received",
    )


def filter_params(args: argparse.Namespace) -> dict[str, str]:
    """The inspection API's query parameters for the filter options given."""
    names = [param for _, param in _FILTERS] + ["valid", "duplicates"]
    return {name: value for name in names if (value := getattr(args, f"filter_{name}", None)) is not None}


# -- talking to a running server ----------------------------------------------------------------


class InspectionClient:
    """Reads the inspection API of a running mockpipe."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, params: dict[str, str], *, timeout: float | None = None) -> JSONObject:
        """GET a JSON object; raises InspectionError when the server is unreachable or answers an error."""
        url = f"{self.url}{path}?{urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=timeout or self.timeout) as response:
                body: JSONObject = orjson.loads(response.read())
                return body
        except urllib.error.HTTPError as exc:
            raise InspectionError(
                f"{url}: HTTP {exc.code}: {exc.read().decode('utf-8', 'replace')[:300]}", status=exc.code
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InspectionError(f"cannot reach mockpipe at {self.url}: {reason}") from None
        except orjson.JSONDecodeError:
            raise InspectionError(f"{url} did not answer JSON: is it a mockpipe?") from None

    def calls(self, params: dict[str, str], *, limit: int | None = None) -> Iterator[JSONObject]:
        """The calls matching `params`, oldest first, page after page."""
        after: int | None = None
        left = limit
        while left is None or left > 0:
            page = dict(params, limit=str(PAGE if left is None else min(PAGE, left)))
            if after is not None:
                page["after"] = str(after)
            answer = self.get("/mockpipe/calls", page)
            calls: list[JSONObject] = answer["calls"]
            yield from calls
            if left is not None:
                left -= len(calls)
            if answer.get("next") is None:
                return
            after = answer["next"]

    def newest(self, params: dict[str, str], count: int) -> list[JSONObject]:
        """The newest `count` calls matching `params`, oldest first.

        Found without reading every page: the ids are halved down to the last one with `count`
        calls after it, each step a long-poll of no time that only says whether there are."""
        if count <= 0:
            return []

        def enough_after(after: int) -> bool:
            query = dict(params, after=str(after), count=str(count), timeout="0", limit="0")
            return not self.get("/mockpipe/calls/wait", query)["timedOut"]

        low, high = 0, count  # enough_after(low) holds, then not enough_after(high)
        if enough_after(low):
            while enough_after(high):
                low, high = high, 2 * high
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if enough_after(middle) else (low, middle)
        # All the calls after it: calls that landed meanwhile push the oldest out.
        return list(deque(self.calls(dict(params, after=str(low))), maxlen=count))

    def call(self, call_id: int) -> JSONObject | None:
        """One call by id, or None if the server has none of that id."""
        try:
            return self.get(f"/mockpipe/calls/{call_id}", {})
        except InspectionError as exc:
            if exc.status == 404:
                return None
            raise

    def instance(self) -> str | None:
        """The id of the server's run, new at each start (None from a mockpipe that has none)."""
        instance = self.get("/mockpipe/health", {}).get("instance")
        return None if instance is None else str(instance)

    def wait(self, after: int, params: dict[str, str], *, timeout: float = FOLLOW_POLL_SECONDS) -> list[JSONObject]:
        """The calls after id `after` (a page at most), as soon as there is one (or none once `timeout` has passed)."""
        query = dict(params, after=str(after), count="1", timeout=str(timeout), limit=str(PAGE))
        answer = self.get("/mockpipe/calls/wait", query, timeout=timeout + self.timeout)
        calls: list[JSONObject] = answer["calls"]
        return calls


# -- mockpipe calls ------------------------------------------------------------------------------


def run_calls(args: argparse.Namespace) -> int:
    client = InspectionClient(args.url)
    params = filter_params(args)
    table = None if args.json else Table(shutil.get_terminal_size().columns)
    out = sys.stdout
    cursor = _Cursor()

    def show(call: JSONObject) -> None:
        cursor.move(call)
        out.write(orjson.dumps(call).decode() + "\n" if table is None else table.row(call) + "\n")
        out.flush()

    try:
        if args.follow:
            cursor.instance = client.instance()  # before listing: a restart from now on is noticed
        if table is not None:
            out.write(table.header() + "\n")
        for call in client.calls(params) if args.limit is None else client.newest(params, args.limit):
            show(call)
        if not args.follow:
            return 0
        if args.limit == 0:  # only the calls from now on
            for call in client.newest(params, 1):
                cursor.move(call)
        _follow(client, params, cursor, show)
    except InspectionError as exc:
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _reader_left()
    return 0


def _reader_left() -> None:
    """`mockpipe calls | head`: the reader is gone; end quietly, without a traceback at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


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
            print(
                f"mockpipe: {client.url} restarted and kept its calls; following on after call {self.id}",
                file=sys.stderr,
                flush=True,
            )
            return
        print(
            f"mockpipe: {client.url} restarted with a new journal; showing its calls from the first",
            file=sys.stderr,
            flush=True,
        )
        self.id, self.mark = 0, None


def _mark(call: JSONObject) -> tuple[Any, ...]:
    return call.get("id"), call.get("messageId"), call.get("receivedAt")


def _follow(client: InspectionClient, params: dict[str, str], cursor: _Cursor, show: Any) -> None:
    """Long-poll for calls after the cursor until interrupted, riding out restarts of the server."""
    delay: float | None = None  # while the server cannot be reached: how long until the next try
    while True:
        try:
            # Asked before every poll: the restart of a fast server fits between two of them.
            instance = client.instance()
            if instance != cursor.instance:
                cursor.rebase(client, instance)
            calls = client.wait(cursor.id, params)
        except InspectionError as exc:
            if delay is None:
                print(f"mockpipe: {exc}; trying again until it answers", file=sys.stderr, flush=True)
                delay = RECONNECT_SECONDS[0]
            time.sleep(delay)
            delay = min(2 * delay, RECONNECT_SECONDS[1])
            continue
        delay = None
        for call in calls:
            if int(call["id"]) > cursor.id:
                show(call)


class Table:
    """Rows of calls in fixed-width columns that fit `width` characters (the widths cannot depend on
    rows still to come, when following)."""

    # name, width (0: what is left), how to get it
    COLUMNS = (("ID", 7), ("TIME", 12), ("KEY", 14), ("TYPE", 8), ("EVENT / NAME", 0), ("USER", 22), ("STATUS", 28))
    MIN_FLEXIBLE = 16

    def __init__(self, width: int) -> None:
        fixed = sum(w for _, w in self.COLUMNS) + 2 * (len(self.COLUMNS) - 1)
        self.widths = [w or max(self.MIN_FLEXIBLE, width - fixed) for _, w in self.COLUMNS]

    def header(self) -> str:
        return self._line([name for name, _ in self.COLUMNS])

    def row(self, call: JSONObject) -> str:
        payload = call.get("payload") or {}
        user = payload.get("userId")
        user_text = "" if user is None else str(user)
        if not user_text and payload.get("anonymousId") is not None:
            user_text = f"anon:{payload['anonymousId']}"
        received = str(call.get("receivedAt", ""))
        return self._line(
            [
                str(call.get("id", "")),
                received[11:23] if "T" in received else received,
                str(call.get("writeKey", "")),
                str(call.get("type", "")),
                _label(call.get("type"), payload),
                user_text,
                _status(call),
            ]
        )

    def _line(self, cells: list[str]) -> str:
        return "  ".join(_fit(_printable(cell), width) for cell, width in zip(cells, self.widths, strict=True)).rstrip()


def _label(call_type: Any, payload: JSONObject) -> str:
    """What tells calls of a type apart: the event, the page's name, the group, the merged id."""
    if call_type == "track":
        return str(payload.get("event", ""))
    if call_type in ("page", "screen"):
        return " / ".join(str(payload[k]) for k in ("category", "name") if payload.get(k) is not None)
    if call_type == "group":
        return f"group {payload.get('groupId', '')}"
    if call_type == "alias":
        return f"from {payload.get('previousId', '')}"
    if call_type == "identify":
        traits = payload.get("traits")
        return f"{len(traits)} trait(s)" if isinstance(traits, dict) else ""
    return ""


def _status(call: JSONObject) -> str:
    violations = call.get("violations") or []
    errors = [v["code"] for v in violations if v.get("severity") == "error"]
    warnings = len(violations) - len(errors)
    if call.get("duplicateOf") is not None:
        text = f"resend of {call['duplicateOf']}"
    elif errors:
        text = (
            ("invalid: " if call.get("accepted", True) else "rejected: ")
            + errors[0]
            + (f" +{len(errors) - 1}" if len(errors) > 1 else "")
        )
    else:
        text = "valid" + (f", {warnings} warning(s)" if warnings else "")
    forward = call.get("forward")
    if isinstance(forward, dict):
        text += f" | fwd {forward.get('status')}"
    return text


def _printable(text: str) -> str:
    """The text with control characters escaped: a payload must not drive the terminal (ANSI escapes)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in text)


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


# -- mockpipe export -----------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    params = filter_params(args)
    try:
        with _output(args.output) as out:
            if args.store is not None:
                count = _export_store(args.store, params, out)
            else:
                count = 0
                for call in InspectionClient(args.url).calls(params):
                    out.write(orjson.dumps(call) + b"\n")
                    count += 1
    except BrokenPipeError:
        _reader_left()
        return 0
    except (MockpipeError, ValueError, OSError) as exc:
        print(f"mockpipe: {exc}", file=sys.stderr)
        return 1
    print(f"exported {count} call(s)" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def _export_store(path: str, params: dict[str, str], out: IO[bytes]) -> int:
    from mockpipe.journal.store import Store

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
    try:
        with _input(args.file) as (source, size):
            progress = Progress(size) if args.progress else None
            notify = progress.note if progress is not None else _tell
            report = replay(source, args.to, write_key=args.write_key, rate=args.rate, progress=progress, notify=notify)
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
    if not path.exists() and recording_path(name).exists():
        path = recording_path(name)
    with open(path, "rb") as source:
        yield source, path.stat().st_size
