"""The backlog: requests answered but not yet turned into calls.

A permissive answer (200 `{}`) does not depend on what the request holds, so the tracking endpoint
answers it at once and leaves the request here, as it arrived; splitting, validating, enriching and
indexing it happen later, in the order the requests came, before anyone reads the journal. Every
read of the journal (its queries, waits and counts, and the ids a new record takes) first calls
`catch_up`: a test that got its 200 sees its call, exactly as if it had been processed before the
answer.

Whatever processing derives (ids, `receivedAt`, a generated messageId) comes from what is kept here
(the body, the headers that matter, the time of arrival), so it is the same whenever it runs.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import Any

log = logging.getLogger("mockpipe.journal.backlog")

# A request as it arrived: (path, the headers that matter, body, over the size limit, time of arrival).
PendingRequest = tuple[str, tuple[Any, ...], bytes, bool, float]
Processor = Callable[[PendingRequest], None]


class Backlog:
    """The requests waiting to be processed, oldest first, and the one lock that processes them in order.

    Written by the server's event loop (`add`: a deque append), processed by whichever thread reads
    first (`catch_up`)."""

    def __init__(self) -> None:
        self.queue: deque[PendingRequest] = deque()
        self.processor: Processor | None = None  # set by the tracking endpoint that fills the backlog
        self.received = 0  # requests ever added (the drainer tells a quiet server by it)
        self.processed = 0  # requests ever taken out to be processed
        self.followers = 0  # parties that want calls as soon as possible (a live view, a forwarder)
        self.pauses = 0  # while above 0, no request is left here: each is processed before its answer
        self._lock = threading.Lock()  # held while processing: one thread at a time, in order
        self._counters = threading.Lock()  # followers and pauses change from several threads
        self._processing: int | None = None  # the thread processing, if any

    def __len__(self) -> int:
        return len(self.queue)

    def add(self, pending: PendingRequest) -> None:
        """Leave an answered request to be processed (on the event loop, as it answers)."""
        self.queue.append(pending)
        self.received += 1

    @property
    def caught_up(self) -> bool:
        """Whether every request answered so far is in the journal (or nothing can process them: no
        processor is attached, and reads go on with what the journal holds)."""
        return (not self.queue and self._processing is None) or self.processor is None

    @property
    def busy(self) -> bool:
        """Whether another thread is processing now."""
        return self._processing is not None and self._processing != threading.get_ident()

    def catch_up(self, budget: float | None = None, *, upto: int | None = None) -> bool:
        """Process the requests answered so far (or the first `upto` ever received), oldest first: all of
        them, or for about `budget` seconds. Requests answered meanwhile are left to the next read:
        under a steady flow a read ends. Returns whether those are done (true too when no processor is
        attached: nothing would process them).

        Without a budget it waits for another thread's processing (a read must see what was answered);
        with one (the event loop's callers, who try again after letting the loop turn) it returns
        False at once instead. Called from within processing (a record takes ids, which catches up),
        it returns at once: the request being processed is the oldest, the others come after it."""
        if (not self.queue and self._processing is None) or self.processor is None:
            return True
        me = threading.get_ident()
        if self._processing == me:
            return False
        target = self.received if upto is None else upto
        if not self._lock.acquire(blocking=budget is None):
            return False
        try:
            self._processing = me
            self._process(budget, target)
        finally:
            self._processing = None
            self._lock.release()
        return self.processed >= target or not self.queue

    def _process(self, budget: float | None, target: int) -> None:
        queue, process = self.queue, self.processor
        if process is None:  # nobody to process them (no endpoint attached): kept
            return
        deadline = None if budget is None else monotonic() + budget
        while queue and self.processed < target:
            pending = queue.popleft()
            self.processed += 1
            try:
                process(pending)
            except Exception:  # processing must not stop for one request: it was answered already
                log.exception("mockpipe failed to process a request to %s", pending[0])
            if deadline is not None and monotonic() >= deadline:
                break

    def follow(self, change: int) -> None:
        """One more (+1) or one less (-1) party following calls as they come."""
        with self._counters:
            self.followers += change

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No request left here meanwhile, and those answered before processed first: what changes in
        the block (a plan, a durable listener) applies from the next request on, to the request."""
        with self._counters:
            self.pauses += 1
        try:
            self.catch_up()
            yield
        finally:
            with self._counters:
                self.pauses -= 1
