"""A contract diff as text (terminals, the plugin), markdown (a pull request) or JSON (tools), and the rules table."""

from __future__ import annotations

import orjson

from mockpipe.contracts.diff import RULES, Change, ContractDiff
from mockpipe.contracts.infer import event_label
from mockpipe.plans.model import SECTION

REPORT_FORMATS = ("text", "markdown", "json")


def render_diff(diff: ContractDiff, fmt: str = "text") -> str:
    if fmt == "json":
        return orjson.dumps(diff.to_data(), option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "markdown":
        return _markdown(diff)
    if fmt == "text":
        return _text(diff)
    raise ValueError(f"no diff format {fmt!r}: use {', '.join(REPORT_FORMATS)}")


def summary(diff: ContractDiff) -> str:
    if not diff:
        return "no changes"
    return f"{len(diff.breaking)} breaking, {len(diff.compatible)} compatible change(s)"


def _text(diff: ContractDiff) -> str:
    lines = [f"contract diff: {summary(diff)}"]
    for title, changes in (("breaking changes", diff.breaking), ("compatible changes", diff.compatible)):
        if changes:
            lines.append(f"{title}:")
            lines.extend("  " + change.line for change in changes)
    return "\n".join(lines) + "\n"


def _markdown(diff: ContractDiff) -> str:
    out = [f"### Contract changes: {summary(diff)}", ""]
    for title, changes in (("Breaking", diff.breaking), ("Compatible", diff.compatible)):
        if not changes:
            continue
        out += [
            f"#### {title} ({len(changes)})",
            "",
            "| Event | Property | Change | Was | Now |",
            "|---|---|---|---|---|",
        ]
        out += [_row(change) for change in changes]
        out.append("")
    return "\n".join(out)


def _row(change: Change) -> str:
    cells = [
        _code(event_label(change.key)),
        _code(f"{SECTION[change.key[0]]}.{change.path}") if change.path is not None else "",
        _cell(change.rule.what),
        _code(change.old) if change.old else "",
        _code(change.new) if change.new else "",
    ]
    return "| " + " | ".join(cells) + " |"


def _code(text: str | None) -> str:
    """Text from payloads in a code span: nothing in it renders as markdown or breaks the table."""
    value = (text or "").replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rules_markdown() -> str:
    """The classification table, as docs/contracts.md holds it (a test keeps them the same)."""
    lines = ["| Change | Code | Class | Why |", "|---|---|---|---|"]
    lines += [f"| {r.what} | `{r.code}` | {r.severity} | {r.reason} |" for r in RULES.values()]
    return "\n".join(lines) + "\n"
