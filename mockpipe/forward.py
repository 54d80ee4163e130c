"""Forward: relay each accepted call to another Data Pipelines endpoint (the real service or another
mockpipe), the "destination" of the seed's setup.

The journal listener only queues the call and marks it pending, so no client ever waits on the
destination; a background thread packs the queue into batches per write key and sends them with
retries (`mockpipe.delivery`). Each call's status is attached to it in the journal, and the
inspection API shows it as the call's `forward` field:
`{"status": "pending" | "delivered" | "failed" | "skipped", "attempts", "httpStatus", "reason", "at"}`.
A resend of a messageId already seen (`duplicate_of`) is skipped: the destination gets each call once.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mockpipe.delivery import Batch, Endpoint, Retry, RetryPolicy, deliver, outgoing, too_large
from mockpipe.enrich import format_time
from mockpipe.validation import MAX_BATCH_BYTES, MAX_CALL_BYTES

if TYPE_CHECKING:
    from mockpipe.journal import Call, Journal, RequestRecord

log = logging.getLogger("mockpipe.forward")

ANNOTATION = "forward"
# About two and a half minutes of back-off, a refused connection included: the destination may be restarting.
DEFAULT_POLICY = RetryPolicy(attempts=10, refused_attempts=None)


class _AbortedError(Exception):
    """Raised from the back-off wait once `close` has given up on the calls still pending."""


class Forwarder:
    """Relays the accepted calls of a journal to `url` from a daemon thread.

    `write_key` is the key sent with every call (default: the call's own). Raises ValueError for a
    URL that is not http(s). Call `attach(journal)` to start, `close()` to stop.
    """

    def __init__(
        self, url: str, *, write_key: str | None = None, policy: RetryPolicy = DEFAULT_POLICY,
        max_call_bytes: int = MAX_CALL_BYTES, max_batch_bytes: int = MAX_BATCH_BYTES, timeout: float = 30.0,
    ) -> None:
        self.endpoint = Endpoint(url, timeout=timeout)
        self.url = self.endpoint.url
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
        """Forward what `journal` accepts from now on."""
        self._journal = journal
        journal.subscribe(self._enqueue)
        self._thread = threading.Thread(target=self._run, name="mockpipe-forward", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Calls neither delivered nor failed yet."""
        return self.queued - self.delivered - self.failed

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every call queued so far is delivered or failed; False if `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._queue and not self._in_flight, timeout)

    def close(self, timeout: float = 5.0) -> int:
        """Deliver what is queued for up to `timeout` seconds, then stop; returns how many calls were left."""
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
            if not call.accepted:
                continue
            if call.duplicate_of is not None:
                self.skipped += 1
                self._mark(call, "skipped", reason=f"a resend of call {call.duplicate_of} (same messageId)")
                continue
            self._mark(call, "pending")
            queued.append(call)
        if queued:
            with self._changed:
                self.queued += len(queued)
                self._queue.extend(queued)
                self._changed.notify_all()

    def _mark(self, call: Call, status: str, *, attempts: int = 0, http_status: int | None = None,
              reason: str | None = None) -> None:
        if self._journal is None:
            return
        value: dict[str, Any] = {"status": status, "attempts": attempts, "httpStatus": http_status, "reason": reason,
                                 "at": format_time(datetime.now(UTC))}
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
                    self._mark(call, "failed", reason=problem)
                    continue
                if not batch.fits(item):
                    self._send(batch, write_key)
                    batch = Batch(max_batch_bytes=self.max_batch_bytes)
                batch.add(call, item)
            if batch:
                self._send(batch, write_key)

    def _send(self, batch: Batch[Call], write_key: str) -> None:
        # A batch refused for some of its calls is split: only those fail, each with its own reason.
        for part in deliver(self.endpoint, batch, write_key, policy=self.policy, sleep=self._sleep,
                            on_retry=self._retrying):
            outcome = part.outcome
            status = "delivered" if outcome.accepted else "failed"
            for call in part.batch.tags:
                self._mark(call, status, attempts=outcome.attempts, http_status=outcome.status, reason=outcome.reason)
            if outcome.accepted:
                self.delivered += len(part.batch)
            else:
                self.failed += len(part.batch)
                log.warning("forwarding %d call(s) to %s failed: %s", len(part.batch), self.url, outcome.reason)

    def _retrying(self, batch: Batch[Call], retry: Retry) -> None:
        for call in batch.tags:
            self._mark(call, "pending", attempts=retry.attempt, reason=f"retrying after {retry.reason}")

    def _sleep(self, seconds: float) -> None:
        if self._abort.wait(seconds):
            raise _AbortedError
