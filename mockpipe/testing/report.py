"""What a test run sent, summed up: calls by type and event, violations by code, rejected requests.

Rendered three ways for `mockpipe run`: plain text for the terminal, JUnit XML (one test case per
violation code, read by every CI system) and Markdown (GitHub's job summary). Pure: it reads records
a journal gave, and imports no web code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.etree import ElementTree

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from mockpipe.journal.records import Call, RequestRecord
    from mockpipe.spec.rules import Violation

SPEC_VIOLATION = "spec.violation"  # the reason of a request refused for its calls' violations
MAX_CALLS_PER_CODE = 20  # listed under a violation code; the count says how many there were in all


@dataclass(frozen=True)
class Offence:
    """One violation of one call (or of a request as a whole), located in the journal."""

    violation: Violation
    call_id: int | None
    request_id: int
    write_key: str | None
    label: str  # "track 'Order Completed'", or the request's path

    def describe(self) -> str:
        where = f"call {self.call_id}" if self.call_id is not None else f"request {self.request_id}"
        violation = self.violation
        return f"{where} ({self.label}, write key {self.write_key}): {violation.path or '/'}: {violation.message}"


@dataclass
class RunReport:
    """The calls and requests of a run, counted."""

    calls: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_event: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, event or name)
    offences: dict[str, list[Offence]] = field(default_factory=dict)  # code -> offences, in journal order
    severities: dict[str, str] = field(default_factory=dict)  # code -> severity
    rejected: Counter[str] = field(default_factory=Counter)  # reason -> requests
    write_keys: Counter[str] = field(default_factory=Counter)  # calls per write key

    @classmethod
    def of(cls, calls: Iterable[Call], requests: Iterable[RequestRecord]) -> RunReport:
        report = cls()
        for call in calls:
            if call.duplicate_of is not None:
                continue  # a resend is the same call again
            report.calls += 1
            report.by_type[call.type] += 1
            report.write_keys[call.write_key] += 1
            name = call.event if call.type == "track" else call.name
            if name is not None:
                report.by_event[call.type, name] += 1
            for violation in call.violations:
                report._add(Offence(violation, call.id, call.request_id, call.write_key, _label(call)))
        for request in requests:
            for violation in request.violations:
                report._add(Offence(violation, None, request.id, request.write_key, request.path))
            # Refused for what its calls broke (strict mode): those calls already count their violations.
            if not request.accepted and request.reason not in (None, SPEC_VIOLATION) and request.fault is None:
                report.rejected[request.reason] += 1
        return report

    def _add(self, offence: Offence) -> None:
        code = offence.violation.code
        self.offences.setdefault(code, []).append(offence)
        self.severities[code] = offence.violation.severity

    @property
    def error_codes(self) -> list[str]:
        return sorted(code for code, severity in self.severities.items() if severity == "error")

    @property
    def warning_codes(self) -> list[str]:
        return sorted(code for code, severity in self.severities.items() if severity != "error")

    @property
    def errors(self) -> int:
        """Error-severity violations, plus requests rejected as unreadable or unauthorised."""
        return sum(len(self.offences[code]) for code in self.error_codes) + sum(self.rejected.values())

    # -- renderings ----------------------------------------------------------------------------------

    def text(self) -> str:
        lines = [f"{self.calls} call(s)" + (": " + _counts(self.by_type) if self.calls else "")]
        for (call_type, name), count in sorted(self.by_event.items()):
            lines.append(f"  {call_type} {name!r}: {count}")
        for code in [*self.error_codes, *self.warning_codes]:
            offences = self.offences[code]
            lines.append(f"{self.severities[code]} {code}: {len(offences)}")
            lines.extend(f"  {offence.describe()}" for offence in offences[:3])
        if self.rejected:
            lines.append(f"rejected requests: {_counts(self.rejected)}")
        if not self.offences and not self.rejected:
            lines.append("no violations")
        return "\n".join(lines)

    def markdown(self, *, title: str = "mockpipe run") -> str:
        lines = [f"### {title}", "", f"**{self.calls}** call(s), **{self.errors}** error(s)", ""]
        if self.by_type:
            lines += ["| type | event or name | calls |", "|---|---|---:|"]
            for (call_type, name), count in sorted(self.by_event.items()):
                lines.append(f"| {call_type} | {_cell(name)} | {count} |")
            for call_type, count in sorted(self.by_type.items()):
                named = sum(n for (kind, _), n in self.by_event.items() if kind == call_type)
                if count > named:
                    lines.append(f"| {call_type} | (none) | {count - named} |")
            lines.append("")
        if self.offences:
            lines += ["| severity | code | occurrences | first |", "|---|---|---:|---|"]
            for code in [*self.error_codes, *self.warning_codes]:
                offences = self.offences[code]
                lines.append(
                    f"| {self.severities[code]} | `{code}` | {len(offences)} | {_cell(offences[0].describe())} |"
                )
            lines.append("")
        if self.rejected:
            lines += ["| rejected requests | count |", "|---|---:|"]
            lines += [f"| `{reason}` | {count} |" for reason, count in sorted(self.rejected.items())]
            lines.append("")
        return "\n".join(lines)

    def junit_xml(self, *, suite: str = "mockpipe") -> bytes:
        """One test case per violation code (a failure for errors), one per rejection reason, and a
        `calls` case that always passes, so that a clean run still reports something."""
        cases: list[ElementTree.Element] = []
        calls_case = ElementTree.Element("testcase", classname=f"{suite}.calls", name="calls received")
        ElementTree.SubElement(calls_case, "system-out").text = self.text()
        cases.append(calls_case)
        for code in [*self.error_codes, *self.warning_codes]:
            offences = self.offences[code]
            case = ElementTree.Element("testcase", classname=f"{suite}.violations", name=code)
            listing = "\n".join(offence.describe() for offence in offences[:MAX_CALLS_PER_CODE])
            if len(offences) > MAX_CALLS_PER_CODE:
                listing += f"\n... and {len(offences) - MAX_CALLS_PER_CODE} more"
            if self.severities[code] == "error":
                failure = ElementTree.SubElement(
                    case, "failure", message=f"{len(offences)} call(s) break {code}", type=code
                )
                failure.text = listing
            else:
                ElementTree.SubElement(case, "system-out").text = f"warning, {len(offences)} call(s):\n{listing}"
            cases.append(case)
        for reason, count in sorted(self.rejected.items()):
            case = ElementTree.Element("testcase", classname=f"{suite}.requests", name=reason)
            ElementTree.SubElement(case, "failure", message=f"{count} request(s) rejected: {reason}", type=reason)
            cases.append(case)
        failures = len(self.error_codes) + len(self.rejected)
        root = ElementTree.Element("testsuites", tests=str(len(cases)), failures=str(failures))
        suite_element = ElementTree.SubElement(
            root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures), errors="0"
        )
        suite_element.extend(cases)
        ElementTree.indent(root)
        xml: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
        return xml + b"\n"


def _label(call: Call) -> str:
    name = call.event if call.type == "track" else call.name
    return f"{call.type} {name!r}" if name is not None else call.type


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(counter.items()))


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def other_keys(report: RunReport, write_key: str, *, most: int = 3) -> Sequence[tuple[str, int]]:
    """The other write keys that received calls, busiest first (a misconfigured key is the likeliest mistake)."""
    return [(key, count) for key, count in report.write_keys.most_common() if key != write_key][:most]
