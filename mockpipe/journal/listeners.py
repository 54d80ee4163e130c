"""Who a journal tells: the listeners of its records (a store, a recording, a forwarder, the live view,
the people model), of its clears and of the calls a bound makes it forget. A mixin of `Journal`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from mockpipe.errors import JournalWriteError

if TYPE_CHECKING:
    from mockpipe.journal.backlog import Backlog
    from mockpipe.journal.records import Call, RequestRecord

log = logging.getLogger("mockpipe.journal.journal")

Listener = Callable[["RequestRecord", "list[Call]"], None]


class JournalListeners:
    """The listeners of a `Journal`, and how they are told."""

    backlog: Backlog
    _listeners: list[Listener]
    _durable: list[Listener]  # listeners whose failure fails the request
    _clear_listeners: list[Callable[[str | None], None]]
    _drop_listeners: list[Callable[[list[Call]], None]]

    def _notify(self, request: RequestRecord, stored: list[Call]) -> None:
        """Hand a recorded request to the listeners; raise JournalWriteError when a durable one failed."""
        failure: Exception | None = None
        for listener in self._listeners:
            try:
                listener(request, stored)
            except Exception as exc:  # a broken listener must not take the server down
                log.exception("journal listener %r failed", listener)
                if listener in self._durable and failure is None:
                    failure = exc
        if failure is not None:
            raise JournalWriteError(f"a durable copy of request {request.id} failed: {failure}") from failure

    def subscribe(self, listener: Listener, *, durable: bool = False) -> Callable[[], None]:
        """Call `listener(request, calls)` after every recorded request; returns an unsubscribe function.

        A `durable` listener keeps calls somewhere that must not miss one (a store, a recording): when
        it fails, `record` raises `JournalWriteError`, and the client is told to retry instead of 200
        (so no request is left to the backlog while a durable listener is subscribed).
        """
        # The requests answered before it are not its to see, and none is answered ahead meanwhile.
        with self.backlog.paused():
            self._listeners.append(listener)
            if durable:
                self._durable.append(listener)

        def unsubscribe() -> None:
            self._listeners.remove(listener)
            if listener in self._durable:
                self._durable.remove(listener)

        return unsubscribe

    def on_clear(self, listener: Callable[[str | None], None]) -> Callable[[], None]:
        """Call `listener(write_key)` after every `clear` (None: everything); returns an unsubscribe function."""
        self._clear_listeners.append(listener)
        return lambda: self._clear_listeners.remove(listener)

    def on_drop(self, listener: Callable[[list[Call]], None]) -> Callable[[], None]:
        """Call `listener(calls)` with the calls the bound is making the journal forget, oldest first;
        returns an unsubscribe function. It runs under the journal's lock: it must not use the journal."""
        self._drop_listeners.append(listener)
        return lambda: self._drop_listeners.remove(listener)
