"""Forward: relay each accepted call to another Data Pipelines endpoint (the real service or another
mockpipe), the "destination" of the seed's setup.

The journal listener only queues the call and marks it pending, so no client ever waits on the
destination; a background thread packs the queue into batches per write key and sends them with
retries (`mockpipe.relay.delivery`). Each call's status is attached to it in the journal, and the
inspection API shows it as the call's `forward` field:
`{"status": "pending" | "delivered" | "failed" | "skipped", "attempts", "httpStatus", "reason", "at"}`.
A resend of a messageId already seen (`duplicate_of`) is skipped: the destination gets each call once.
So is a call production would answer 200 and drop (a write key of the other region), and a call of a
request not accepted (strict mode, auth, an injected fault) is not forwarded at all. The URL is shown
with its credentials masked (`Endpoint.url`).

With a store (`serve --store FILE --forward URL`) the status is kept in the file too: pending with the
call itself, delivered or failed once the destination answered. Attached again to the same store and
URL after a crash or a stop, the forwarder sends again what was left pending (see `mockpipe.journal.store`).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mockpipe.relay.delivery import Batch, Endpoint, Retry, RetryPolicy, deliver, outgoing, too_large
from mockpipe.spec.limits import MAX_BATCH_BYTES, MAX_CALL_BYTES
from mockpipe.spec.times import format_time

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mockpipe.journal.journal import Call, Journal, RequestRecord
    from mockpipe.journal.store import Store

log = logging.getLogger("mockpipe.relay.forward")

ANNOTATION = "forward"
# Rules whose calls production answers 200 and then drops: sending them on would deliver what it never would.
DROPPED_BY_PRODUCTION = frozenset({"writeKey.region"})
# About two and a half minutes of back-off, a refused connection included: the destination may be restarting.
DEFAULT_POLICY = RetryPolicy(attempts=10, refused_attempts=None)


class _AbortedError(Exception):
    """Raised from the back-off wait once `close` has given up on the calls still pending."""


class Forwarder:
    """Relays the accepted calls of a journal to `url` from a daemon thread.

    `write_key` is the key sent with every call (default: the call's own). `store`: the store of the
    journal, to keep the forward status in and resume from. Raises ValueError for a URL that is not
    http(s). Call `attach(journal)` to start (before the journal receives calls), `close()` to stop
    (before the store is closed).
    """

    def __init__(
        self,
        url: str,
        *,
        write_key: str | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_call_bytes: int = MAX_CALL_BYTES,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        timeout: float = 30.0,
        store: Store | None = None,
    ) -> None:
        self.endpoint = Endpoint(url, timeout=timeout)
        self.url = self.endpoint.url
        self.store = store
        self.resumed = 0  # calls an earlier run left pending in the store, queued again by attach()
        self.write_key = write_key
        self.policy = policy
        self.max_call_bytes = max_call_bytes
        self.max_batch_bytes = max_batch_bytes
        self.queued = 0
        self.delivered = 0
        self.failed = 0
        self.skipped = 0
        self._journal: Journal | None = None
        self._queue: deque[Call] = deque()
        self._in_flight = 0
        self._changed = threading.Condition()
        self._closing = False
        self._abort = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, journal: Journal) -> None:
        """Forward what `journal` accepts from now on, and what the store says is still pending."""
        self._journal = journal
        if self.store is not None:
            held = journal.calls(duplicates=True, limit=1)  # no status for calls the journal no longer holds
            for call_id, detail in self.store.forwards(self.url):
                if held and call_id >= held[0].id:
                    journal.annotate(call_id, ANNOTATION, detail)
            pending = self.store.pending_forwards(self.url)
            self.store.track_forwards(self.url, self._status_of)
            self.resumed = len(pending)
            self._queue.extend(pending)
            self.queued += len(pending)
        journal.subscribe(self._enqueue)
        journal.backlog.follow(+1)  # calls answered ahead of processing are processed at once, to go on
        self._thread = threading.Thread(target=self._run, name="mockpipe-forward", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Calls neither delivered nor failed yet."""
        return self.queued - self.delivered - self.failed

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every call queued so far is delivered or failed; False if `timeout` passed first."""
        if self._journal is not None:
            self._journal.backlog.catch_up()  # the calls answered so far are queued first
        with self._changed:
            return self._changed.wait_for(lambda: not self._queue and not self._in_flight, timeout)

    def close(self, timeout: float = 5.0) -> int:
        """Deliver what is queued for up to `timeout` seconds, then stop; returns how many calls were left."""
        if self._journal is not None:
            self._journal.backlog.catch_up()
            if not self._closing:
                self._journal.backlog.follow(-1)
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._abort.set()  # stop waiting out back-offs; what is left stays pending
                self._thread.join(self.endpoint.timeout)
        self.endpoint.close()
        return self.pending

    # -- the listener (event loop) ------------------------------------------------------------

    def _enqueue(self, request: RequestRecord, calls: list[Call]) -> None:
        queued = []
        for call in calls:
            status = self._status_of(call)
            if status is None:
                continue
            self._annotate(call, status)
            if status["status"] == "skipped":
                self.skipped += 1
            else:
                queued.append(call)
        if queued:
            with self._changed:
                self.queued += len(queued)
                self._queue.extend(queued)
                self._changed.notify_all()

    @staticmethod
    def _status_of(call: Call) -> dict[str, Any] | None:
        """A call's first forward status: pending, skipped (a resend, or a call production drops), or
        None (not accepted: not forwarded)."""
        if not call.accepted:
            return None
        if call.duplicate_of is not None:
            return _status("skipped", reason=f"a resend of call {call.duplicate_of} (same messageId)")
        for violation in call.violations:
            if violation.code in DROPPED_BY_PRODUCTION:
                return _status("skipped", reason=f"production would drop it ({violation.code}): {violation.message}")
        return _status("pending")

    def _mark(
        self,
        calls: Iterable[Call],
        status: str,
        *,
        attempts: int = 0,
        http_status: int | None = None,
        reason: str | None = None,
        keep: bool = False,
    ) -> None:
        """Set the status of `calls` in the journal, and in the store too if `keep`."""
        value = _status(status, attempts=attempts, http_status=http_status, reason=reason)
        calls = list(calls)
        for call in calls:
            self._annotate(call, value)
        if keep and self.store is not None:
            try:
                self.store.update_forwards(self.url, [(call.id, value) for call in calls])
            except Exception:  # the journal still shows it; the store keeps it pending, to be sent again
                log.exception("keeping the forward status of %d call(s) failed", len(calls))

    def _annotate(self, call: Call, value: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.annotate(call.id, ANNOTATION, value)

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return  # closing, and nothing left
                taken = list(self._queue)
                self._queue.clear()
                self._in_flight = len(taken)
            try:
                self._deliver(taken)
            except _AbortedError:
                return
            except Exception:  # a bug must not stop forwarding for good
                log.exception("forwarding %d call(s) failed", len(taken))
            finally:
                with self._changed:
                    self._in_flight = 0
                    self._changed.notify_all()

    def _deliver(self, calls: list[Call]) -> None:
        by_key: dict[str, list[Call]] = {}
        for call in calls:
            by_key.setdefault(self.write_key or call.write_key, []).append(call)
        for write_key, keyed in by_key.items():
            batch: Batch[Call] = Batch(max_batch_bytes=self.max_batch_bytes)
            for call in keyed:
                item = outgoing(call.payload)
                problem = too_large(item, max_call_bytes=self.max_call_bytes)
                if problem is not None:
                    self.failed += 1
                    self._mark([call], "failed", reason=problem, keep=True)
                    continue
                if not batch.fits(item):
                    self._send(batch, write_key)
                    batch = Batch(max_batch_bytes=self.max_batch_bytes)
                batch.add(call, item)
            if batch:
                self._send(batch, write_key)

    def _send(self, batch: Batch[Call], write_key: str) -> None:
        # A batch refused for some of its calls is split: only those fail, each with its own reason.
        for part in deliver(
            self.endpoint, batch, write_key, policy=self.policy, sleep=self._sleep, on_retry=self._retrying
        ):
            outcome = part.outcome
            self._mark(
                part.batch.tags,
                "delivered" if outcome.accepted else "failed",
                attempts=outcome.attempts,
                http_status=outcome.status,
                reason=outcome.reason,
                keep=True,
            )
            if outcome.accepted:
                self.delivered += len(part.batch)
            else:
                self.failed += len(part.batch)
                log.warning("forwarding %d call(s) to %s failed: %s", len(part.batch), self.url, outcome.reason)

    def _retrying(self, batch: Batch[Call], retry: Retry) -> None:
        self._mark(batch.tags, "pending", attempts=retry.attempt, reason=f"retrying after {retry.reason}")

    def _sleep(self, seconds: float) -> None:
        if self._abort.wait(seconds):
            raise _AbortedError


def _status(
    status: str, *, attempts: int = 0, http_status: int | None = None, reason: str | None = None
) -> dict[str, Any]:
    return {
        "status": status,
        "attempts": attempts,
        "httpStatus": http_status,
        "reason": reason,
        "at": format_time(datetime.now(UTC)),
    }
