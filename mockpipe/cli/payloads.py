"""`mockpipe fake` (payloads from the factories, as JSON lines) and `mockpipe validate` (the rule checks
on payloads read from a file or stdin)."""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.cli.output import reader_left
from mockpipe.cli.plan import add_plan_format_option, read_plan_or_explain, rule_location
from mockpipe.errors import MockpipeError
from mockpipe.spec.rules import REJECTIONS, RULES
from mockpipe.spec.times import parse_timestamp
from mockpipe.spec.validator import split_request, validate
from mockpipe.types import CALL_TYPES, REGIONS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mockpipe.plans.check import PlanChecker
    from mockpipe.spec.rules import Violation

# (severity, code, JSON pointer, message, the plan rule for a plan violation)
Problem = tuple[str, str, str, str, "dict[str, Any] | None"]

ENDPOINT_TYPES = (*CALL_TYPES, "batch")
# The factories' channels and base time, not imported from them: importing the factories loads Faker,
# a tenth of a second that `mockpipe validate` never needs (tests/cli/test_payloads.py keeps them equal).
CHANNELS = ("browser", "server", "mobile")
BASE_TIME = "2024-01-02T03:04:05Z"  # parsed by --base-time's type, as a value given on the command line


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fake = subparsers.add_parser(
        "fake",
        help="print realistic payloads as JSON lines",
        description="Print payloads from mockpipe's factories, one JSON document a line (pipe them into curl "
        "or a file). The same --seed gives the same bytes, whatever the clock.",
    )
    fake.add_argument(
        "type",
        nargs="?",
        choices=ENDPOINT_TYPES,
        metavar="TYPE",
        help=f"one of {', '.join(ENDPOINT_TYPES)} (may be left out with --invalid)",
    )
    fake.add_argument("-n", type=_positive, default=1, metavar="N", help="how many payloads (default %(default)s)")
    fake.add_argument("--seed", type=int, default=None, metavar="S", help="seed (default: a random one)")
    fake.add_argument("--channel", choices=CHANNELS, help="shape payloads as this kind of SDK (default: mixed)")
    fake.add_argument(
        "--invalid",
        metavar="RULE",
        help="break this rule (a code of `mockpipe validate --rules`) or make this named mistake",
    )
    fake.add_argument(
        "--base-time",
        type=_base_time,
        default=BASE_TIME,
        metavar="ISO|now",
        help="timestamps fall in the week before this instant (default %(default)s)",
    )
    fake.add_argument("--write-key", default=None, metavar="KEY", help="key carried in browser and mobile bodies")
    fake.set_defaults(handler=run_fake)

    check = subparsers.add_parser(
        "validate",
        help="check payloads against the rule catalogue",
        description="Check payloads read as JSON (one document, or an array of them) or JSON lines: single calls "
        "or batch envelopes. Prints each violation with its rule code, JSON pointer and message; "
        "exits 1 when any payload has an error.",
    )
    check.add_argument("file", nargs="?", default="-", metavar="FILE", help="file to read; - (default) is stdin")
    check.add_argument(
        "--call-type",
        choices=ENDPOINT_TYPES,
        metavar="TYPE",
        help="the endpoint the payloads are for (default: batch for envelopes, else their type)",
    )
    check.add_argument("--region", choices=REGIONS, help="flag write keys of the other region")
    check.add_argument(
        "--write-key", metavar="KEY", help="the key the payloads are sent with (default: their own writeKey)"
    )
    check.add_argument(
        "--plan",
        metavar="PATH",
        help="also check each call against this tracking plan (a file or a folder; unreadable: exit 2)",
    )
    add_plan_format_option(check)
    check.add_argument("--json", action="store_true", help="print violations as JSON lines")
    check.add_argument("--rules", action="store_true", help="list the rule codes (the plan codes too) and exit")
    check.set_defaults(handler=run_validate)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _base_time(text: str) -> datetime:
    if text == "now":
        return datetime.now(UTC)
    parsed = parse_timestamp(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date-time: {text!r}")
    return parsed


# -- mockpipe fake -----------------------------------------------------------------------------------


def run_fake(args: argparse.Namespace) -> int:
    from mockpipe import factories  # Faker is only imported by the commands that need it

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    options: dict[str, Any] = {"seed": seed, "channel": args.channel, "base_time": args.base_time}
    if args.write_key is not None:
        options["write_key"] = args.write_key
    try:
        factory = factories.PayloadFactory(**options)
        if args.invalid is not None:
            payloads = _invalid_payloads(factory, args)
        elif args.type is None:
            print("mockpipe fake: say which TYPE of payload to make (or --invalid RULE)", file=sys.stderr)
            return 2
        elif args.type == "batch":
            payloads = (factory.batch() for _ in range(args.n))
        else:
            payloads = (factory.call(args.type) for _ in range(args.n))
        _write_lines(payloads)
    except MockpipeError as exc:
        print(f"mockpipe fake: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mockpipe fake track -n 1000 | head -1`: the reader has all it wanted
        reader_left()
    return 0


def _invalid_payloads(factory: Any, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    build = factory.invalid_case if args.invalid in RULES else factory.mistake
    first = build(args.invalid)  # raises FactoryError for an unknown name before anything is printed
    if args.type is not None and args.type != first.call_type:
        raise MockpipeError(
            f"{args.invalid!r} payloads are sent to {first.endpoint}, not /v1/{args.type}: "
            f"leave TYPE out or use {first.call_type}"
        )
    needs = [f"POST {first.endpoint}"]
    if first.write_key:
        needs.append(f"with write key {first.write_key!r}")
    if first.region:
        needs.append(f"to a server of region {first.region!r}")
    print(
        f"mockpipe fake: each payload breaks {first.rule} ({first.description}) when sent as {' '.join(needs)}",
        file=sys.stderr,
    )
    yield first.payload
    for _ in range(args.n - 1):
        yield build(args.invalid).payload


def _write_lines(payloads: Any) -> None:
    out = getattr(sys.stdout, "buffer", None)
    for payload in payloads:
        line = orjson.dumps(payload) + b"\n"
        if out is not None:
            out.write(line)
        else:
            sys.stdout.write(line.decode())
    if out is not None:
        out.flush()


# -- mockpipe validate -------------------------------------------------------------------------------


def run_validate(args: argparse.Namespace) -> int:
    if args.rules:
        from mockpipe.plans.codes import PLAN_RULES

        for code, found in {**RULES, **PLAN_RULES}.items():
            print(f"{code:32} {found.severity:8} {found.summary}")
        return 0
    checker: PlanChecker | None = None
    if args.plan is not None:
        from mockpipe.plans.check import PlanChecker

        plan = read_plan_or_explain(args.plan, args.plan_format, "validate")
        if plan is None:
            return 2
        checker = PlanChecker(plan)
    name = "stdin" if args.file == "-" else args.file
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"mockpipe validate: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    documents = errors = warnings = 0
    try:
        for where, document, endpoint in _documents(name, raw):
            documents += 1
            for severity, code, path, message, plan_rule in _check(document, args, checker, endpoint):
                if severity == "error":
                    errors += 1
                else:
                    warnings += 1
                if args.json:
                    print(
                        orjson.dumps(
                            {
                                "source": where,
                                "severity": severity,
                                "code": code or None,
                                "path": path,
                                "message": message,
                                **({"plan": plan_rule} if plan_rule is not None else {}),
                            }
                        ).decode()
                    )
                elif code:
                    rule = f" [plan rule {_plan_rule_name(plan_rule)}]" if plan_rule is not None else ""
                    print(f"{where}: {severity} {code} at {path or '(whole call)'}: {message}{rule}")
                else:
                    print(f"{where}: {severity}: {message}")
        sys.stdout.flush()
    except BrokenPipeError:  # `mockpipe validate big.jsonl | head`: stop; the status says what was seen
        reader_left()
        return 1 if errors else 0
    print(f"{documents} payload(s): {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def _documents(name: str, raw: bytes) -> Iterator[tuple[str, Any, str | None]]:
    """(where, the call or the exception, the endpoint it was sent to if known) for each payload: one
    JSON document, an array, or JSON lines.

    As `replay` reads them: a line of mockpipe's own exports and recordings (`Call.to_dict()`) stands
    for the call inside it, and a captured SDK request (`{method, path, headers, json}`) for its body as
    sent to its endpoint; the captured requests that carry no call (settings, scripts) are left out.
    Checking the records themselves would report their fields as the call's errors.
    """
    from mockpipe.relay.recording import captured_body, recorded_payload

    for where, document in _parsed(name, raw):
        payload = recorded_payload(document)
        if payload is not None:
            yield where, payload, None
            continue
        captured = captured_body(document)
        if captured is None:
            yield where, document, None
        elif captured[0] is not None:
            yield where, captured[1], captured[0]


def _parsed(name: str, raw: bytes) -> Iterator[tuple[str, Any]]:
    try:
        whole = orjson.loads(raw)
    except orjson.JSONDecodeError:
        whole = None
        lines = True
    else:
        lines = False
    if not lines:
        if isinstance(whole, list):
            for index, item in enumerate(whole):
                yield f"{name}[{index}]", item
        else:
            yield name, whole
        return
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield f"{name}:{number}", orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield f"{name}:{number}", exc


def _show(value: Any) -> str:
    return "missing" if value is None else orjson.dumps(value).decode()[:40]


def _plan_rule_name(plan_rule: dict[str, Any]) -> str:
    """`track:Order Completed in plan.yaml#/track/Order Completed`: where a reviewer opens the plan."""
    where = rule_location(plan_rule.get("file"), plan_rule.get("place"))
    return f"{plan_rule.get('rule')}" + (f" in {where}" if where else "")


def _check(
    document: Any, args: argparse.Namespace, checker: PlanChecker | None = None, endpoint: str | None = None
) -> list[Problem]:
    """Each problem of one document: request-level ones use the REJECTIONS codes; with a plan checker,
    the plan's violations of each call follow the spec's."""
    if isinstance(document, orjson.JSONDecodeError):
        rejection = REJECTIONS["request.json.invalid"]
        return [("error", rejection.code, "", rejection.message(detail=str(document)), None)]
    if not isinstance(document, dict):
        rejection = REJECTIONS["request.json.not_object"]
        kind = "an array" if isinstance(document, list) else f"a {type(document).__name__}".replace("NoneType", "null")
        return [("error", rejection.code, "", rejection.message(kind=kind), None)]
    call_type = args.call_type or endpoint
    if call_type is None and "batch" not in document and document.get("type") not in CALL_TYPES:
        # Not a rule of the catalogue: the input does not say what to check it as.
        return [
            (
                "error",
                "",
                "/type",
                f"cannot tell which endpoint this call is for (type {_show(document.get('type'))}): pass --call-type",
                None,
            )
        ]
    found: list[Violation] = validate(document, call_type=call_type, region=args.region, write_key=args.write_key)
    problems: list[Problem] = [(v.severity, v.code, v.path, v.message, None) for v in found]
    if checker is not None:
        problems += _plan_problems(document, call_type, checker)
    return problems


def _plan_problems(document: dict[str, Any], call_type: str | None, checker: PlanChecker) -> list[Problem]:
    """The plan's violations of each call of a document (a batch's items at their `/batch/<i>` pointers)."""
    path_type = call_type or ("batch" if "batch" in document else str(document.get("type")))
    items, _ = split_request(path_type, document)
    problems: list[Problem] = []
    for item in items:
        if item.type not in CALL_TYPES:
            continue  # the spec's checks already report the item's type
        for found in checker.check(item.type, item.payload):
            moved = found.at(item.pointer)
            problems.append((moved.severity, moved.code, moved.path, moved.message, dict(moved.plan)))
    return problems
