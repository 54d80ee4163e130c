"""The `mockpipe` command line: one module per command group, each imported only when its command runs.

`build_parser` imports each group to register its commands, so every group module is cheap to import:
its heavy imports (Hypercorn and Starlette for `serve`, httpx and rich for `calls`, the store and the
relay for `export` and `replay`, the load generator for `bench`, Faker for `fake`) happen inside the
command's handler, and `mockpipe validate` loads none of them (tests/cli/test_main.py checks).

argparse, not click: it is in the standard library and imports in about half click's time, which
matters for a command started as often as `validate`.
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
COMMAND_MODULES = ("serve", "run", "rules", "calls", "transfer", "bench", "payloads", "plan", "contract")


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
