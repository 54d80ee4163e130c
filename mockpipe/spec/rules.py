"""The rule catalogue: every check mockpipe makes on a call, in one table.

Each rule has a stable code (never renamed once published: tests, snapshots and users' allow-lists
refer to it), a severity, the call types it applies to, a one-line summary for people, and a message
template filled in with the details of each violation. Errors make a call invalid (a 400 in strict
mode); warnings are lint for mistakes that production silently accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockpipe.errors import UnknownRuleError
from mockpipe.types import CALL_TYPES, Severity

ALL_TYPES = CALL_TYPES
PERSON_TYPES = ("identify", "track", "page", "screen")
BATCH = ("batch",)


@dataclass(frozen=True, slots=True)
class Rule:
    """One check of the catalogue."""

    code: str
    severity: Severity
    applies_to: tuple[str, ...]
    summary: str
    template: str

    def message(self, **details: Any) -> str:
        return self.template.format(**details)


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken by one call, at a JSON-pointer `path` inside that call (or inside the request).

    `plan` names the tracking-plan rule a `plan.*` violation came from (rule, kind, event, format,
    file, place, schema_path); None for the spec's own rules. It takes no part in equality.
    """

    code: str
    severity: Severity
    path: str
    message: str
    plan: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity, "path": self.path, "message": self.message}
        if self.plan is not None:
            out["plan"] = dict(self.plan)
        return out

    def at(self, prefix: str) -> Violation:
        """The same violation with its path moved under `prefix` (a batch item's pointer)."""
        return Violation(self.code, self.severity, prefix + self.path, self.message, self.plan)

    def describe(self) -> str:
        """`code at /path: message`, and the plan rule it came from when it has one."""
        text = f"{self.code} at {self.path or '/'}: {self.message}"
        return text if self.plan is None else f"{text} [plan: {plan_reference(self.plan)}]"


def plan_reference(plan: Mapping[str, Any]) -> str:
    """Where a plan rule is: `track:Order Completed in plans/shop.yaml#/events/0 (segment), schema /properties/x`."""
    text = str(plan.get("rule") or plan.get("event") or "?")
    if plan.get("file"):
        text += f" in {plan['file']}"
        if plan.get("place"):
            text += f"#{plan['place']}"
    elif plan.get("place"):
        text += f" at {plan['place']}"
    if plan.get("format"):
        text += f" ({plan['format']})"
    if plan.get("schema_path"):
        text += f", schema {plan['schema_path']}"
    return text


_CATALOGUE: tuple[Rule, ...] = (
    # Who the call is about.
    Rule(
        "identity.required",
        "error",
        PERSON_TYPES,
        "identify, track, page and screen need userId or anonymousId (identify may use traits.email, "
        "track may use groupId instead)",
        "{type} call has neither userId nor anonymousId{alternative}",
    ),
    Rule(
        "alias.previousId.required",
        "error",
        ("alias",),
        "alias needs previousId, the id merged into userId",
        "alias call needs previousId: the anonymousId or userId to merge into userId",
    ),
    Rule(
        "alias.userId.required",
        "error",
        ("alias",),
        "alias needs userId, the id that is kept",
        "alias call needs userId: the id to keep",
    ),
    Rule(
        "track.event.required",
        "error",
        ("track",),
        "track needs a non-empty event name",
        "track call needs a non-empty event name",
    ),
    Rule("group.groupId.required", "error", ("group",), "group needs groupId", "group call needs a groupId"),
    # Types and formats of documented fields.
    Rule(
        "id.type",
        "error",
        ALL_TYPES,
        "userId, anonymousId, previousId and groupId are strings",
        "{field} must be a string, got {kind}",
    ),
    Rule(
        "id.number",
        "warning",
        ALL_TYPES,
        "an id sent as a number (SDKs accept it; the service stores a string)",
        '{field} is the number {value}; ids are strings, send "{value}"',
    ),
    Rule(
        "field.type",
        "error",
        ALL_TYPES,
        "a documented field has the wrong JSON type (objects, strings, booleans as the spec says)",
        "{field} must be {expected}, got {kind}",
    ),
    Rule(
        "context.active.type",
        "error",
        ALL_TYPES,
        "context.active is a boolean",
        "context.active must be a boolean, got {kind}",
    ),
    Rule(
        "channel.enum",
        "error",
        ALL_TYPES,
        "channel (top-level or context.channel) is browser, server or mobile",
        "{field} must be one of browser, server, mobile; got {value}",
    ),
    Rule(
        "context.device.type.enum",
        "error",
        ALL_TYPES,
        "context.device.type is android or ios",
        "context.device.type must be android or ios; got {value}",
    ),
    Rule(
        "context.page.keywords.type",
        "error",
        ALL_TYPES,
        "context.page.keywords is an array of strings",
        "context.page.keywords must be an array of strings; {detail}",
    ),
    Rule(
        "integrations.value.type",
        "error",
        ALL_TYPES,
        "each integrations value is a boolean (or an object of settings, as SDKs send)",
        "integrations[{name!r}] must be a boolean or an object, got {kind}",
    ),
    Rule(
        "timestamp.format",
        "error",
        ALL_TYPES,
        "timestamp, originalTimestamp, sentAt and traits.createdAt are ISO-8601 date-times",
        "{field} must be an ISO-8601 date-time such as 2024-01-02T03:04:05.000Z; got {value}",
    ),
    Rule(
        "timestamp.epoch",
        "warning",
        ALL_TYPES,
        "a timestamp sent as an epoch number instead of an ISO-8601 string",
        "{field} is the number {value}; send an ISO-8601 string such as {suggestion}",
    ),
    Rule(
        "objectTypeId.format",
        "error",
        ("group", "track"),
        "objectTypeId / traits.object_type_id / traits.objectTypeId is a stringified positive integer",
        '{field} must be a positive integer written as a string, such as "1"; got {value}',
    ),
    Rule(
        "objectTypeId.number",
        "warning",
        ("group",),
        "a group's object type id sent as a number instead of a string",
        '{field} is the number {value}; object type ids are stringified integers, send "{value}"',
    ),
    Rule(
        "call.too_large",
        "error",
        ALL_TYPES,
        "a call (or batch item) is at most 32 KB once decompressed",
        "call is {size} bytes; the limit is {limit} bytes per call",
    ),
    Rule(
        "writeKey.region",
        "error",
        ALL_TYPES,
        "the write key names the other region: production answers 200 and silently drops the call",
        "write key {key!r} belongs to the {key_region} region, but this server emulates {region}: "
        "production would answer 200 and drop the call",
    ),
    # Customer.io semantic events (track calls with reserved names).
    Rule(
        "semantic.userId.required",
        "error",
        ("track",),
        "device, user and relationship semantic events need userId",
        "{event!r} needs a userId",
    ),
    Rule(
        "semantic.anonymousId.required",
        "error",
        ("track",),
        "the Object Deleted semantic event needs anonymousId",
        "{event!r} needs an anonymousId",
    ),
    Rule(
        "semantic.device.token.required",
        "error",
        ("track",),
        "Device Created or Updated and Device Deleted need context.device.token",
        "{event!r} needs context.device.token, the device's push token",
    ),
    Rule(
        "semantic.objectId.required",
        "error",
        ("track",),
        "Relationship Deleted and Object Deleted need properties.objectId",
        "{event!r} needs properties.objectId",
    ),
    # Batch envelopes.
    Rule(
        "batch.type",
        "error",
        BATCH,
        "a batch request carries a `batch` array",
        "batch request needs a `batch` array of calls, got {kind}",
    ),
    Rule("batch.empty", "error", BATCH, "a batch holds at least one call", "batch is empty: send at least one call"),
    Rule(
        "batch.item.object",
        "error",
        BATCH,
        "every batch item is a JSON object",
        "batch item must be an object, got {kind}",
    ),
    Rule(
        "batch.item.type",
        "error",
        ALL_TYPES,
        "every batch item has a type: identify, track, page, screen, group or alias",
        "batch item needs a type of identify, track, page, screen, group or alias; got {value}",
    ),
    # Lint: mistakes people really make, which production accepts silently.
    Rule(
        "identify.properties",
        "warning",
        ("identify",),
        "identify with properties (people's attributes go in traits)",
        "identify carries properties, which are ignored: people's attributes go in traits",
    ),
    Rule(
        "identify.traits.context_only",
        "warning",
        ("identify",),
        "identify whose traits are only in context.traits",
        "identify has traits only in context.traits; the person's traits are read from top-level traits",
    ),
    Rule(
        "key.typo",
        "warning",
        ALL_TYPES,
        "a top-level key that looks like a misspelt known one (userid, user_id, anonymousID, ...)",
        "{field!r} looks like a misspelling of {known!r} and is ignored",
    ),
    Rule(
        "screen.name.missing",
        "warning",
        ("screen",),
        "screen without a name (the seed marks it required)",
        "screen call has no name: the screen a person viewed is unknown",
    ),
    Rule(
        "type.mismatch",
        "warning",
        ALL_TYPES,
        "a single call whose body type differs from the endpoint's (the endpoint wins)",
        "body says type {body_type!r}, but the endpoint makes it a {type} call; the endpoint wins",
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _CATALOGUE}


def rule(code: str) -> Rule:
    """The rule with this code; raises `UnknownRuleError` for a code not in the catalogue."""
    try:
        return RULES[code]
    except KeyError:
        raise UnknownRuleError(code) from None


def violation(code: str, path: str, **details: Any) -> Violation:
    """Build the violation of rule `code` at JSON pointer `path`."""
    found = rule(code)
    return Violation(found.code, found.severity, path, found.message(**details))


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a whole request was turned away before any call in it could be read or trusted."""

    code: str
    status: int
    summary: str
    template: str

    def message(self, **details: Any) -> str:
        return self.template.format(**details)


# `status` is the answer in strict mode; permissive mode answers 200, as production does, except
# for a wrong method or path, which no SDK sends and no production endpoint accepts.
_REJECTIONS: tuple[Rejection, ...] = (
    Rejection("request.not_found", 404, "no such endpoint", "no Data Pipelines endpoint at {path}"),
    Rejection(
        "request.method",
        405,
        "only POST is accepted on the tracking endpoints",
        "{method} is not allowed on {path}: send POST",
    ),
    Rejection(
        "request.incomplete",
        400,
        "a body that ended early (the client closed the connection) or did not arrive within the body timeout",
        "the request body did not arrive whole: {reason}; send it again",
    ),
    Rejection("request.body.empty", 400, "the body is empty", "request body is empty: send a JSON object"),
    Rejection(
        "request.body.too_large",
        400,
        "the body is over the batch limit (500 KB) once decompressed",
        "request body is over {limit} bytes once decompressed",
    ),
    Rejection(
        "request.encoding.unsupported",
        400,
        "a Content-Encoding other than gzip, deflate or identity",
        "Content-Encoding {encoding!r} is not supported: send gzip, deflate or no encoding",
    ),
    Rejection(
        "request.encoding.invalid",
        400,
        "a body that is not valid gzip or deflate data",
        "request body is not valid {encoding} data: {detail}",
    ),
    Rejection(
        "request.transfer_encoding.unsupported",
        400,
        "a Transfer-Encoding other than chunked: the body cannot be read (answered 400 in both modes)",
        "Transfer-Encoding {coding!r} is not supported: send the body with a Content-Length, or chunked",
    ),
    Rejection(
        "request.json.invalid",
        400,
        "a body that is not JSON (or not UTF-8, or nested too deep)",
        "request body is not valid JSON: {detail}",
    ),
    Rejection(
        "request.json.not_object",
        400,
        "a body that is JSON but not an object",
        "request body must be a JSON object, got {kind}",
    ),
    Rejection(
        "auth.missing",
        401,
        "no write key in the Authorization header or the body",
        "no write key: send HTTP Basic auth with the key as username, 'Bearer <key>', or writeKey in the body",
    ),
    Rejection(
        "auth.unknown_key",
        401,
        "a write key this server was not started with (--write-key)",
        "write key {key!r} is not one this server accepts",
    ),
)

REJECTIONS: dict[str, Rejection] = {rejection.code: rejection for rejection in _REJECTIONS}


def catalogue_markdown() -> str:
    """The rule catalogue and the rejection reasons as Markdown tables (the README's copy is checked against it)."""
    lines = ["| Code | Severity | Applies to | What it checks |", "|---|---|---|---|"]
    lines += [f"| `{r.code}` | {r.severity} | {', '.join(r.applies_to)} | {r.summary} |" for r in RULES.values()]
    lines += ["", "| Rejection | Strict status | What it means |", "|---|---|---|"]
    lines += [f"| `{r.code}` | {r.status} | {r.summary} |" for r in REJECTIONS.values()]
    return "\n".join(lines) + "\n"


README_START = "<!-- rules:start -->"
README_END = "<!-- rules:end -->"


def with_catalogue(readme: str) -> str:
    """`readme` with the generated catalogue between its rules markers."""
    head, _, rest = readme.partition(README_START)
    _, _, tail = rest.partition(README_END)
    return f"{head}{README_START}\n{catalogue_markdown()}{README_END}{tail}"
