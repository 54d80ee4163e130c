"""`mockpipe rules`: the rule catalogue as Markdown, printed or written into a file between its markers."""

from __future__ import annotations

import argparse
from pathlib import Path

from mockpipe.spec.rules import catalogue_markdown, with_catalogue


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="print the rule catalogue as Markdown",
        description="Print the rule catalogue and rejection reasons as Markdown tables.",
    )
    parser.add_argument("--write", metavar="README", help="rewrite the table between the rules markers of this file")
    parser.set_defaults(handler=print_rules)


def print_rules(args: argparse.Namespace) -> int:
    if args.write:
        target = Path(args.write)
        target.write_text(with_catalogue(target.read_text()))
    else:
        print(catalogue_markdown(), end="")
    return 0
