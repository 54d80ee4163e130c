"""The refusals of the tracking endpoint: a request answered without taking its calls, because it cannot
be read or stored (a rejection of the catalogue) or because a fault rule takes it.

A mixin of `mockpipe.emulator.ingest.Ingest`: the calls of a valid request never come here, so the
path of an ordinary call stays in ingest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockpipe.emulator.error_body import tracking_error as _error_body
from mockpipe.emulator.fault_delivery import InjectedFault
from mockpipe.emulator.faults import fault_answer, message_ids
from mockpipe.spec.decoding import RejectedError

if TYPE_CHECKING:
    from datetime import datetime

    from mockpipe.emulator.config import ServerConfig
    from mockpipe.emulator.faults import Faults
    from mockpipe.emulator.ingest import _RequestMeta
    from mockpipe.journal.journal import Journal

OK_BODY = b"{}"


class Refusals:
    """How `Ingest` journals and answers what it does not take."""

    config: ServerConfig
    journal: Journal
    faults: Faults

    def _accept(
        self, meta: _RequestMeta, strict: bool, path_type: str, body: dict[str, Any], received: datetime
    ) -> tuple[int, bytes]:
        raise NotImplementedError  # Ingest's

    def _inject(
        self, meta: _RequestMeta, strict: bool, path_type: str, body: dict[str, Any], received: datetime, kept: bytes
    ) -> None:
        """Raise `InjectedFault` when a fault rule takes this request, after journaling it as the fault says."""
        assert meta.write_key is not None  # checked by the caller; narrows the type
        hit = self.faults.take(meta.write_key)
        if hit is None:
            return
        meta.fault = hit.label
        if not hit.answers:  # only delayed: answered as usual, late
            raise InjectedFault(hit, *self._accept(meta, strict, path_type, body, received), b"application/json")
        # The calls are not taken; a resend of their messageIds counts this attempt.
        self.journal.count_failed_attempt(meta.write_key, message_ids(body))
        status, answer, content_type = fault_answer(hit)
        self.journal.record(meta.record(status, False, None, hit.label, (), [], body=kept))
        raise InjectedFault(hit, status, answer, content_type)

    def _reject(
        self, meta: _RequestMeta, strict: bool, code: str, kept: bytes | None, **details: Any
    ) -> tuple[int, bytes]:
        return self._reject_with(meta, strict, RejectedError(code, **details), kept)

    def _reject_with(
        self, meta: _RequestMeta, strict: bool, error: RejectedError, kept: bytes | None
    ) -> tuple[int, bytes]:
        status = self._rejection_status(error, strict)
        answer = OK_BODY if status == 200 else _error_body(error.code, error.message)
        self.journal.record(meta.record(status, False, error.code, error.message, (), [], body=kept))
        return status, answer

    def _rejection_status(self, error: RejectedError, strict: bool) -> int:
        status = error.rejection.status
        if strict or status in (404, 405):
            return status
        if self.config.reject_malformed and error.code.startswith("request."):
            return 400
        return 200  # production's permissive mode logs the problem and answers 200
