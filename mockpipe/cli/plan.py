"""`mockpipe plan`: tracking plans on the command line (here `plan infer`; main adds check and coverage)."""

from __future__ import annotations

import argparse

from mockpipe.cli.contract import register_infer


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser(
        "plan",
        help="tracking plans: infer one from recordings",
        description="Tracking plans on the command line.",
    )
    commands = group.add_subparsers(dest="plan_command", metavar="COMMAND", required=True)
    register_infer(commands)
