"""`mockpipe plan`: tracking plans on the command line.

`plan check PATH` reads a plan and says what it holds (exit 0) or why it cannot be read (exit 2);
`plan coverage PLAN RECORDING...` says which planned events, properties and enum values the calls of
recordings (or of a running server, `--url`) used, and `--fail-under PCT` makes too little coverage
exit 1, as pytest-cov's `--cov-fail-under` does.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockpipe.plans.model import Plan, PlanRule

COVERAGE_FORMATS = ("text", "json", "markdown")
# `mockpipe.plans.load.FORMATS`, named here so that building the parser imports no plan reader
# (tests/cli/test_plan.py keeps the two equal).
PLAN_FORMATS = ("mockpipe", "segment", "segment-rules", "rudderstack", "jsonschema")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser(
        "plan",
        help="check tracking plans and measure their coverage",
        description="Tracking plans: check a plan file, measure which planned events calls used.",
    )
    commands = group.add_subparsers(dest="plan_command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="read a plan and print what it holds",
        description="Read a tracking plan (a file or a folder, in any format mockpipe imports) and print its "
        "events, rules and severities. Exit status 0 when it can be read, 2 with the reason when not.",
    )
    check.add_argument("path", metavar="PATH", help="the plan: a file or a folder")
    add_plan_format_option(check)
    check.add_argument("--json", action="store_true", help="print the plan in mockpipe's own format, as JSON")
    check.set_defaults(handler=run_check)

    coverage = commands.add_parser(
        "coverage",
        help="which planned events and properties calls used",
        description="Measure the coverage of a tracking plan by the calls of recordings and exports "
        "(files or folders) and, with --url, of a running mockpipe. Exit status 1 when --fail-under is "
        "not reached, 2 when the plan or a recording cannot be read.",
    )
    coverage.add_argument("plan", metavar="PLAN", help="the plan: a file or a folder")
    coverage.add_argument("recordings", nargs="*", metavar="RECORDING", help="recordings, exports or folders of them")
    coverage.add_argument("--url", metavar="URL", help="also count the accepted calls of the mockpipe at URL")
    coverage.add_argument("--write-key", metavar="KEY", help="count only the calls sent with this write key")
    add_plan_format_option(coverage)
    coverage.add_argument("--format", choices=COVERAGE_FORMATS, default="text", help="report format (default text)")
    coverage.add_argument(
        "--fail-under",
        type=_percentage,
        metavar="PCT",
        help="exit 1 when fewer than PCT percent of the planned events were sent",
    )
    coverage.set_defaults(handler=run_coverage)

    from mockpipe.cli.contract import register_infer  # the contract group's module: cheap to import

    register_infer(commands)


def add_plan_format_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--plan-format",
        choices=PLAN_FORMATS,
        metavar="FORMAT",
        help=f"read the plan as this format ({', '.join(PLAN_FORMATS)}; default: detected from the content)",
    )


def _percentage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def read_plan_or_explain(path: str, plan_format: str | None, command: str) -> Plan | None:
    """The plan at `path`, or None after printing the one-line reason it cannot be read."""
    from mockpipe.plans.load import load_plan
    from mockpipe.plans.model import PlanError

    try:
        return load_plan(path, format=plan_format)
    except PlanError as exc:
        print(f"mockpipe {command}: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"mockpipe {command}: cannot read tracking plan {path}: {exc.strerror or exc}", file=sys.stderr)
    return None


# -- mockpipe plan check -----------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    plan = read_plan_or_explain(args.path, args.plan_format, "plan check")
    if plan is None:
        return 2
    if args.json:
        from mockpipe.plans.export import dump_plan

        print(dump_plan(plan, "json"), end="")
        return 0
    print(describe_plan(plan), end="")
    return 0


def describe_plan(plan: Plan) -> str:
    """What a plan holds, for a person: where it came from, each rule with its properties, the severities."""
    from mockpipe.plans.check import PlanChecker
    from mockpipe.plans.codes import PLAN_RULES

    checker = PlanChecker(plan)  # compiling it proves every schema is usable, as the server will
    title = f" {plan.name!r}" if plan.name else ""
    where = plan.source.file or "<plan>"
    lines = [f"{where}: a {plan.source.format} plan{title} with {_count(len(plan.rules), 'rule')}"]
    events = [rule for rule in plan.rules if rule.kind == "track" and rule.name is not None]
    lines.append(f"track events: {len(events)}")
    for rule in sorted(plan.rules, key=lambda r: (r.kind != "common", r.kind, r.name or "")):
        lines.append(f"  {rule.key}: {_describe_rule(rule)}")
    lines.append(
        "unplanned events: "
        + ("allowed" if plan.allow_unplanned_events else "forbidden")
        + "; unplanned properties: "
        + ("allowed" if plan.allow_unplanned_properties else "forbidden")
    )
    lines.append("severities:")
    for code in PLAN_RULES:
        severity = checker.severity_of(code)
        lines.append(f"  {code:26} {severity or 'off'}")
    return "\n".join(lines) + "\n"


def _describe_rule(rule: PlanRule) -> str:
    from mockpipe.plans.model import section_schema

    section = section_schema(rule)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    if section is not None:
        listed = section.get("properties")
        properties = dict(listed) if isinstance(listed, dict) else {}
        required = {name for name in section.get("required", ()) if isinstance(name, str)}
    parts = [_describe_property(name, properties[name], name in required) for name in sorted(properties)]
    text = f"{rule.section}: " + (", ".join(parts) if parts else "none listed")
    if rule.allow_unplanned is not None:
        text += "; extras " + ("allowed" if rule.allow_unplanned else "forbidden")
    where = rule_location(rule.source.file, rule.source.place)
    if where:
        text += f"  [{where}]"
    return text


def rule_location(file: str | None, place: str | None) -> str:
    """`plan.yaml#/track/Order Completed`: the file and the place in it a reviewer opens ("" if unknown)."""
    if place and not place.startswith("#"):
        place = "#" + place
    return f"{file or ''}{place or ''}"


def _describe_property(name: str, schema: Any, required: bool) -> str:
    """`total (number, required)`, `currency (string, one of "USD"|"EUR")`, `email (string, format email)`."""
    facts: list[str] = []
    kind = schema.get("type") if isinstance(schema, dict) else None
    facts.append("|".join(kind) if isinstance(kind, list) else (kind or "any"))
    if isinstance(schema, dict) and isinstance(schema.get("enum"), list):
        import orjson

        facts.append("one of " + "|".join(orjson.dumps(value).decode() for value in schema["enum"]))
    if isinstance(schema, dict) and isinstance(schema.get("format"), str):
        facts.append(f"format {schema['format']}")
    if required:
        facts.append("required")
    return f"{name} ({', '.join(facts)})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# -- mockpipe plan coverage --------------------------------------------------------------------------


def run_coverage(args: argparse.Namespace) -> int:
    from mockpipe.cli.call_sources import read_sources
    from mockpipe.plans.coverage import Coverage
    from mockpipe.relay.sources import SourceError

    if not args.recordings and args.url is None:
        print("mockpipe plan coverage: name recordings, exports or folders, or a server with --url", file=sys.stderr)
        return 2
    plan = read_plan_or_explain(args.plan, args.plan_format, "plan coverage")
    if plan is None:
        return 2
    try:
        calls = read_sources(args.recordings, url=args.url, write_key=args.write_key)
    except SourceError as exc:
        print(f"mockpipe plan coverage: {exc}", file=sys.stderr)
        return 2
    coverage = Coverage(plan).observe_all((call.type, call.payload) for call in calls)
    sys.stdout.write(coverage.render(args.format))
    if args.fail_under is not None and coverage.events_covered < args.fail_under:
        print(
            f"mockpipe plan coverage: events covered {coverage.events_covered:.1f}% is under "
            f"--fail-under {args.fail_under:g}%",
            file=sys.stderr,
        )
        return 1
    return 0
