"""A long batch taken a slice at a time: the tracking endpoint cuts and checks `SLICE_ITEMS` calls, then
lets the event loop serve other requests (health, inspection, other clients) before the next slice.

Issue 13: a 300 KB batch of 100,001 `{}` items held the loop for about 5 s in one go. The steps are those of
`Ingest._accept_steps`; the request and its calls take their ids, and are journaled, in the last one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

from mockpipe.spec.decoding import RejectedError

SLICE_ITEMS = 1000  # calls of a batch cut and checked between two turns of the event loop: a few ms


class LongBatch(Exception):  # a signal, not an error
    """Raised by `Ingest.handle(..., pausable=True)` after the first slice of a long batch; `finish()` takes
    the rest. `steps` yields None after each slice and the answer (status, body) last; `reject` answers a
    call that cannot be stored (nothing of the request is kept then)."""

    def __init__(
        self,
        steps: Iterator[tuple[int, bytes] | None],
        reject: Callable[[RejectedError], tuple[int, bytes]],
    ) -> None:
        super().__init__("a long batch, taken a slice at a time")
        self.steps = steps
        self.reject = reject

    async def finish(self) -> tuple[int, bytes]:
        """Take the remaining slices, letting the event loop turn between two; the answer."""
        try:
            for answer in self.steps:
                if answer is not None:
                    return answer
                await asyncio.sleep(0)
        except RejectedError as exc:
            return self.reject(exc)
        raise AssertionError("unreachable: the last step answers")
