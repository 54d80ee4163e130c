"""The tracking requests in flight (being received or processed), for `GET /mockpipe/settle`.

The tracking endpoint (`mockpipe.emulator.ingest`) keeps two plain dicts keyed by the request's raw
Authorization header: how many requests are in flight, and when the last one was answered. Two dict
writes a request, no decoding: the header is decoded into a write key only when someone asks.
"""

from __future__ import annotations

from mockpipe.spec.decoding import parse_authorization

IN_FLIGHT_KEPT = 4096  # Authorization headers whose last answer time is kept (one per write key in use)


class InFlight:
    """Requests in flight by Authorization header (None: the request has none, its key is in the body),
    and when the last one of each header was answered (`time.monotonic`). Updated on the event loop."""

    __slots__ = ("counts", "ended")

    def __init__(self) -> None:
        self.counts: dict[bytes | None, int] = {}
        self.ended: dict[bytes | None, float] = {}

    def of(self, write_key: str) -> tuple[int, float | None]:
        """(requests in flight that may be of `write_key`, when the last of them was answered; None:
        none was). A request without an Authorization header counts for every key: its key is in a
        body that may not be read yet."""

        def mine(auth: bytes | None) -> bool:
            return auth is None or parse_authorization(auth.decode("latin-1"))[0] == write_key

        busy = sum(n for auth, n in list(self.counts.items()) if mine(auth))
        ended = [moment for auth, moment in list(self.ended.items()) if mine(auth)]
        return busy, max(ended, default=None)
