"""Replay: send a recording to any Data Pipelines endpoint as `/v1/batch` requests within the limits,
with a progress bar on a terminal, and count what the endpoint accepted.

The file is streamed, never held: calls are packed into one batch per write key, which is sent when
the next call does not fit. `rate` paces the calls per second (and caps a batch at that many calls).
A batch refused for its invalid calls is split so that only those are rejected (`delivery.deliver`);
an endpoint that refuses connections ends the sending at once, the calls left reported as not sent.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from mockpipe.relay.delivery import MAX_BATCH_CALLS, Batch, Endpoint, Retry, RetryPolicy, deliver, outgoing, too_large
from mockpipe.relay.recording import read_calls
from mockpipe.spec.limits import MAX_BATCH_BYTES, MAX_CALL_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from rich.progress import Progress as RichProgress

PROBLEMS_SHOWN = 10
LINES_SHOWN = 5  # line numbers named per reason


@dataclass(kw_only=True)
class ReplayReport:
    """What a replay did. Calls are `accepted` (2xx), `rejected` (refused, over the limits, without
    a write key, or unreadable lines) or `not_sent` (the endpoint could not be reached: `unreachable`
    says why); `reasons` counts why calls were rejected, `lines` names the first lines of each.
    `sent` counts the calls the endpoint received and answered."""

    url: str
    calls: int = 0
    accepted: int = 0
    rejected: int = 0
    sent: int = 0
    not_sent: int = 0
    unreachable: str | None = None
    requests: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    lines: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and self.not_sent == 0

    def reject(self, count: int, reason: str, lines: Iterable[int] = ()) -> None:
        self.rejected += count
        self.reasons[reason] += count
        named = self.lines.setdefault(reason, [])
        for line in lines:
            if len(named) > LINES_SHOWN:
                break
            if line not in named:
                named.append(line)

    def summary(self) -> str:
        rate = self.calls / self.seconds if self.seconds > 0 else 0.0
        if self.not_sent and not self.sent:  # nothing reached the endpoint: no "rejected" for calls never sent
            head = f"nothing replayed to {self.url}: {self.not_sent} call(s) not sent, {self.unreachable}"
            lines = [head + (f"; {self.rejected} rejected" if self.rejected else "")]
        else:
            lines = [
                f"replayed {self.calls} call(s) to {self.url} in {self.requests} request(s), {self.seconds:.1f} s "
                f"({rate:,.0f} calls/s): {self.accepted} accepted, {self.rejected} rejected"
                + (f", {self.not_sent} not sent: {self.unreachable}" if self.not_sent else "")
            ]
        for reason, count in self.reasons.most_common(PROBLEMS_SHOWN):
            lines.append(f"  {count} rejected: {reason}{self._where(reason)}")
        if len(self.reasons) > PROBLEMS_SHOWN:
            lines.append(f"  ... and {len(self.reasons) - PROBLEMS_SHOWN} other reason(s)")
        return "\n".join(lines)

    def _where(self, reason: str) -> str:
        named = sorted(self.lines.get(reason, ())[:LINES_SHOWN])
        if not named:
            return ""
        more = ", ..." if len(self.lines[reason]) > LINES_SHOWN else ""
        return f" (line{'s' if len(named) > 1 else ''} {', '.join(map(str, named))}{more})"


class Progress:
    """The progress of a replay on a text stream: on a terminal, a rich progress bar with the counts,
    redrawn in place; elsewhere (logs, CI) nothing, since the summary printed at the end says it all.

    rich loads only when a bar is drawn. `close()` puts the terminal back (the cursor) if the replay
    ends early; `update(..., final=True)` does it after the last draw.
    """

    REDRAW_SECONDS = 0.1  # at most ten updates a second: one per call would cost more than the sending

    def __init__(self, total_bytes: int | None, *, stream: IO[str] | None = None, interactive: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.total = total_bytes or None
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._bar: RichProgress | None = None

    def update(self, done_bytes: int, report: ReplayReport, *, final: bool = False) -> None:
        if not self.interactive:
            return
        now = time.monotonic()
        if not final and now - self._last_draw < self.REDRAW_SECONDS:
            return
        self._last_draw = now
        bar = self._bar or self._open()
        bar.update(bar.task_ids[0], completed=done_bytes, counts=self._counts(report, now))
        if final:
            self.close()

    def note(self, text: str) -> None:
        """A message on a line of its own, above the bar."""
        if self._bar is not None:
            from rich.text import Text

            self._bar.console.print(Text(text))  # Text: no markup read in a server's answer
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Stop drawing: the bar stays as last drawn."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _open(self) -> RichProgress:
        from rich.console import Console
        from rich.progress import BarColumn, Progress as RichProgress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        bar = RichProgress(
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[counts]}"),
            console=Console(file=self.stream, force_terminal=True, highlight=False),
            redirect_stdout=False,
            redirect_stderr=False,
        )
        bar.add_task("replay", total=self.total, counts="")
        bar.start()
        self._bar = bar
        return bar

    def _counts(self, report: ReplayReport, now: float) -> str:
        elapsed = max(now - self._start, 1e-9)
        not_sent = f", {report.not_sent:,} not sent" if report.not_sent else ""
        return (
            f"{report.sent:,} calls sent, {report.accepted:,} accepted, {report.rejected:,} rejected{not_sent}, "
            f"{report.sent / elapsed:,.0f} calls/s"
        )


class _Replay:
    """One replay run: the batches being filled, the pacing and the report."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        write_key: str | None,
        rate: float | None,
        policy: RetryPolicy,
        max_call_bytes: int,
        max_batch_bytes: int,
        notify: Callable[[str], None] | None,
    ) -> None:
        self.endpoint = endpoint
        self.notify = notify
        self.write_key = write_key
        self.rate = rate
        self.policy = policy
        self.max_call_bytes = max_call_bytes
        self.max_batch_bytes = max_batch_bytes
        self.max_calls = MAX_BATCH_CALLS if rate is None else max(1, min(MAX_BATCH_CALLS, int(rate)))
        self.report = ReplayReport(url=endpoint.url)
        self.batches: dict[str, Batch[int]] = {}  # tags: line numbers
        self.start = time.monotonic()
        self.sent = 0  # calls sent so far, for the pacing

    def add(self, write_key: str, line: int, item: bytes) -> None:
        batch = self.batches.get(write_key)
        if batch is not None and not batch.fits(item):
            self.flush(write_key)
            batch = None
        if batch is None:
            batch = self.batches[write_key] = Batch(max_batch_bytes=self.max_batch_bytes, max_calls=self.max_calls)
        batch.add(line, item)
        if len(batch) >= self.max_calls:
            self.flush(write_key)

    def flush(self, write_key: str) -> None:
        batch = self.batches.pop(write_key, None)
        if not batch:
            return
        report = self.report
        if report.unreachable is not None:
            report.calls += len(batch)
            report.not_sent += len(batch)
            return
        if self.rate is not None:
            # Calls sent by now must not exceed rate x elapsed time.
            wait = self.start + self.sent / self.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self.sent += len(batch)
        for part in deliver(self.endpoint, batch, write_key, policy=self.policy, on_retry=self.retrying):
            outcome = part.outcome
            report.requests += part.requests
            report.calls += len(part.batch)
            if outcome.unreachable:  # never received: not sent, not refused
                report.not_sent += len(part.batch)
                report.unreachable = _unreachable(outcome.reason)
            elif outcome.accepted:
                report.sent += len(part.batch)
                report.accepted += len(part.batch)
            else:
                report.sent += len(part.batch)
                report.reject(len(part.batch), outcome.reason or "refused", part.batch.tags)

    def retrying(self, batch: Batch[int], retry: Retry) -> None:
        if self.notify is not None:
            self.notify(
                f"mockpipe: attempt {retry.attempt} to send {len(batch)} call(s) to {self.endpoint.url} "
                f"failed: {retry.reason}; retrying in {retry.delay:.1f} s"
            )

    def flush_all(self) -> None:
        for write_key in list(self.batches):
            self.flush(write_key)


def _unreachable(reason: str | None) -> str:
    """Why the endpoint was given up, in words ("connection refused ..." when nothing listens)."""
    text = reason or "unreachable"
    if "refused" in text.lower():
        return f"connection refused ({text.split('(')[-1].rstrip(')')})"
    return text


def replay(
    source: IO[bytes],
    url: str,
    *,
    write_key: str | None = None,
    rate: float | None = None,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
    max_batch_bytes: int = MAX_BATCH_BYTES,
    timeout: float = 30.0,
    notify: Callable[[str], None] | None = None,
) -> ReplayReport:
    """Send the calls of a recording read from `source` to the endpoint at `url`.

    `write_key` replaces the key each line carries (a line without one needs it). `notify` is told,
    as a line of text, of each attempt that failed and will be retried. Raises ValueError for a URL
    that is not http(s) or a rate that is not positive.
    """
    if rate is not None and rate <= 0:
        raise ValueError("the rate must be a positive number of calls per second")
    endpoint = Endpoint(url, timeout=timeout)
    run = _Replay(
        endpoint,
        write_key=write_key,
        rate=rate,
        policy=policy or RetryPolicy(),
        max_call_bytes=max_call_bytes,
        max_batch_bytes=max_batch_bytes,
        notify=notify,
    )
    report = run.report
    position = [0]

    def lines() -> Iterator[bytes]:
        for line in source:
            position[0] += len(line)
            yield line

    try:
        for recorded in read_calls(lines()):
            if recorded.payload is None:
                report.calls += 1
                report.reject(1, recorded.problem or "unreadable", (recorded.line,))
                continue
            key = write_key or recorded.write_key
            item = outgoing(recorded.payload)
            problem = (
                "no write key (pass --write-key)" if key is None else too_large(item, max_call_bytes=max_call_bytes)
            )
            if key is None or problem is not None:
                report.calls += 1
                report.reject(1, problem or "", (recorded.line,))
                continue
            run.add(key, recorded.line, item)
            if progress is not None:
                progress.update(position[0], report)
        run.flush_all()
    finally:
        endpoint.close()
        report.seconds = time.monotonic() - run.start
        if progress is not None:
            progress.update(position[0], report, final=True)
    return report
