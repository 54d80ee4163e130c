"""The `mockpipe` command line: one module per command group, each imported only when its command runs.

`build_parser` asks each group to register its commands; a group's heavy imports (Hypercorn for `serve`,
the load generator for `bench`) happen inside the command's handler, so `mockpipe validate` loads neither.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING

from mockpipe.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

# The modules that register commands, in the order `mockpipe --help` lists them.
COMMAND_MODULES = ("serve", "run", "rules", "calls", "bench", "payloads")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockpipe", description="Local emulator of the Customer.io Data Pipelines (Segment-compatible) HTTP API."
    )
    parser.add_argument("--version", action="version", version=f"mockpipe {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _registrations():
        register(subparsers)
    return parser


def _registrations() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    return [importlib.import_module(f"mockpipe.cli.{name}").register for name in COMMAND_MODULES]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
