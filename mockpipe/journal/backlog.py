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
from collections.abc import Callable
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
        self.received = 0  # requests ever added: the drainer tells a quiet server by it
        self.followers = 0  # parties that want calls as soon as possible (a live view, a forwarder)
        self._lock = threading.Lock()  # held while processing: one thread at a time, in order
        self._processing: int | None = None  # the thread processing, if any

    def __len__(self) -> int:
        return len(self.queue)

    @property
    def caught_up(self) -> bool:
        """Whether every request answered so far is in the journal (or nothing can process them: no
        processor is attached, and reads go on with what the journal holds)."""
        return (not self.queue and self._processing is None) or self.processor is None

    def catch_up(self, budget: float | None = None) -> bool:
        """Process the waiting requests, oldest first: all of them, or for about `budget` seconds.
        Returns whether none is left (true too when no processor is attached: nothing would process
        them). Cheap when none waits; waits for another thread's processing.

        Called from within processing (a record takes ids, which catches up), it returns at once: the
        request being processed is the oldest, the others come after it."""
        if (not self.queue and self._processing is None) or self.processor is None:
            return True
        me = threading.get_ident()
        if self._processing == me:
            return False
        with self._lock:
            self._processing = me
            try:
                self._process(budget)
            finally:
                self._processing = None
        return not self.queue

    def _process(self, budget: float | None) -> None:
        queue, process = self.queue, self.processor
        if process is None:  # nobody to process them (no endpoint attached): kept
            return
        deadline = None if budget is None else monotonic() + budget
        done = 0
        while queue:
            pending = queue.popleft()
            try:
                process(pending)
            except Exception:  # processing must not stop for one request: it was answered already
                log.exception("mockpipe failed to process a request to %s", pending[0])
            done += 1
            if deadline is not None and not done % 16 and monotonic() >= deadline:
                break
