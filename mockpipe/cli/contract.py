"""`mockpipe contract diff OLD NEW` and `mockpipe plan infer RECORDING...`: contracts from the command line.

A side of a diff is a contract or plan file or folder (any importable plan format), a recording or a
folder of recordings (inferred), or a running server: an `http://` or `https://` URL as OLD or NEW, or
`--url URL` standing for NEW. Exit status of `diff`: 1 when a change `--fail-on` names is found, 0
otherwise, 2 when an input cannot be read. The contracts package loads only when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockpipe.types import JSONObject

REPORT_FORMATS = ("text", "markdown", "json")
FAIL_ON = ("breaking", "any", "never")
WRITE_FORMATS = ("mockpipe", "jsonschema", "segment", "rudderstack")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contract = subparsers.add_parser(
        "contract",
        help="compare contracts: what changed in what an app sends, and what it breaks",
        description="Contracts: what an app sends, inferred from its calls (see `mockpipe plan infer`).",
    )
    commands = contract.add_subparsers(dest="contract_command", metavar="COMMAND", required=True)
    diff = commands.add_parser(
        "diff",
        help="list the changes from OLD to NEW, each breaking or compatible",
        description="List the changes per event from OLD to NEW (event or property added or removed, type "
        "changed, became optional or required, enum values, formats), each classified breaking or compatible "
        "(docs/contracts.md). OLD and NEW: a contract or plan file or folder in any importable format, a "
        "recording or a folder of recordings, or a running mockpipe (an http:// URL). Exit status: 1 when a "
        "change --fail-on names is found, 0 otherwise, 2 when an input cannot be read.",
    )
    diff.add_argument("old", metavar="OLD", help="the contract before (file, folder, recording or http:// URL)")
    diff.add_argument("new", metavar="NEW", nargs="?", help="the contract after (or --url)")
    diff.add_argument("--url", help="a running mockpipe whose calls make the NEW contract (instead of NEW)")
    diff.add_argument("--write-key", metavar="KEY", help="only the calls of this write key (recordings, servers)")
    diff.add_argument("--format", choices=REPORT_FORMATS, default="text", help="output format (default: text)")
    diff.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="breaking",
        help="which changes make the exit status 1 (default: breaking)",
    )
    diff.set_defaults(handler=run_diff)


def register_infer(plan_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `infer` to the `plan` command group's subcommands."""
    infer = plan_commands.add_parser(
        "infer",
        help="infer a contract (a plan) from recordings or a running server",
        description="Infer the contract of the calls in recordings (serve --record, mockpipe export, the "
        "plugin's --mockpipe-record, SDK captures) or of a running server (--url): per event, its properties "
        "or traits with their types, whether each is always sent, nested objects and arrays, and formats. "
        "Written as a plan (mockpipe's own format by default) that any plan option enforces.",
    )
    infer.add_argument("recordings", metavar="RECORDING", nargs="*", help="recordings or folders of recordings")
    infer.add_argument("--url", help="infer from the calls of a running mockpipe instead")
    infer.add_argument("--write-key", metavar="KEY", help="only the calls of this write key")
    infer.add_argument("--out", metavar="FILE", help="write here (a folder for --format jsonschema); default stdout")
    infer.add_argument("--format", choices=WRITE_FORMATS, default="mockpipe", help="plan format (default: mockpipe)")
    infer.set_defaults(handler=run_infer)


def fetch_calls(url: str, write_key: str | None) -> Iterator[JSONObject]:
    """The accepted calls of a running mockpipe (resends left out), page after page; raises SourceError."""
    from mockpipe.cli.call_sources import calls_from_server

    return (call.payload for call in calls_from_server(url, write_key=write_key))


def _fail(message: str) -> int:
    print(f"mockpipe: {message}", file=sys.stderr)
    return 2


def run_diff(args: argparse.Namespace) -> int:
    from mockpipe.contracts.diff import diff_plans
    from mockpipe.contracts.report import render_diff
    from mockpipe.contracts.sources import contract_side
    from mockpipe.plans.model import PlanError
    from mockpipe.relay.sources import SourceError

    if (args.new is None) == (args.url is None):
        return _fail("contract diff takes NEW or --url URL (one of them)")
    sides = []
    for spec in (args.old, args.new or args.url):
        try:
            sides.append(contract_side(spec, write_key=args.write_key, fetch=fetch_calls))
        except (SourceError, PlanError) as exc:
            return _fail(str(exc) if spec in str(exc) else f"cannot read {spec}: {exc}")
    diff = diff_plans(sides[0], sides[1])
    sys.stdout.write(render_diff(diff, args.format))
    return 1 if diff.fails(args.fail_on) else 0


def run_infer(args: argparse.Namespace) -> int:
    from mockpipe.contracts.infer import Contract
    from mockpipe.contracts.sources import recorded_payloads
    from mockpipe.plans.writers import write_plan
    from mockpipe.relay.sources import SourceError

    if bool(args.recordings) == bool(args.url):
        return _fail("plan infer takes RECORDING... or --url URL (one of them)")
    try:
        if args.url:
            contract = Contract().observe_all(fetch_calls(args.url, args.write_key))
        else:
            contract = Contract().observe_all(recorded_payloads(args.recordings, write_key=args.write_key))
    except SourceError as exc:
        return _fail(str(exc))
    if args.format == "mockpipe":
        written: dict[str, str] | str = contract.render()
        omitted: list[str] = []
    else:
        written, omitted = write_plan(contract.to_plan(), args.format)
    for note in omitted:
        print(f"mockpipe: left out of the {args.format} plan: {note}", file=sys.stderr)
    if isinstance(written, dict):
        if not args.out:
            return _fail("--format jsonschema writes one file per event: give a folder with --out")
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in written.items():
            (folder / name).write_text(text, encoding="utf-8")
    elif args.out:
        Path(args.out).write_text(written, encoding="utf-8")
    else:
        sys.stdout.write(written)
    where = f" into {args.out}" if args.out else ""
    print(
        f"mockpipe: a contract of {len(contract.events)} event(s) from {len(contract)} call(s){where}", file=sys.stderr
    )
    return 0
