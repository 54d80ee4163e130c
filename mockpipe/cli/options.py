"""Options shared by the commands that read a journal (`calls`, `export`): the server's URL and the call filters."""

from __future__ import annotations

import argparse
import os

DEFAULT_URL = "http://127.0.0.1:4242"

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


def add_url_option(parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
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
