"""The refusals of the tracking endpoint: a request answered without taking its calls, because it cannot
be read or stored (a rejection of the catalogue) or because a fault rule takes it.

A mixin of `mockpipe.emulator.ingest.Ingest`: the calls of a valid request never come here, so the
path of an ordinary call stays in ingest.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mockpipe.emulator.error_body import tracking_error as _error_body
from mockpipe.emulator.fault_delivery import InjectedFault
from mockpipe.emulator.faults import fault_answer, message_ids
from mockpipe.errors import JournalWriteError
from mockpipe.spec.decoding import RejectedError

JSON_CONTENT_TYPE = (b"content-type", b"application/json")

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import Scope, Send

    from mockpipe.emulator.config import ServerConfig
    from mockpipe.emulator.faults import Faults
    from mockpipe.emulator.ingest import _RequestMeta
    from mockpipe.journal.journal import Journal

OK_BODY = b"{}"
log = logging.getLogger("mockpipe.emulator.ingest")  # the tracking endpoint's log, whichever half writes


class Refusals:
    """How `Ingest` journals and answers what it does not take."""

    config: ServerConfig
    journal: Journal
    faults: Faults

    def _accept(
        self, meta: _RequestMeta, strict: bool, path_type: str, body: dict[str, Any], received: datetime
    ) -> tuple[int, bytes]:
        raise NotImplementedError  # Ingest's

    def _incomplete(self, scope: Scope, headers: dict[bytes, bytes], reason: str) -> tuple[int, bytes]:
        """Journal a request whose body did not arrive whole as rejected; answered as any unreadable body."""
        return self.refuse_unread(scope["method"], scope["path"], headers, "request.incomplete", reason=reason)

    async def _answer_incomplete(
        self,
        scope: Scope,
        send: Send,
        headers: dict[bytes, bytes],
        reason: str,
        extra_headers: Sequence[tuple[bytes, bytes]],
    ) -> None:
        """Journal and answer a request whose body did not arrive whole (the client went away mid-body,
        stalled, or the server is stopping), closing the connection."""
        status, answer = self._incomplete(scope, headers, reason)
        length = str(len(answer)).encode()
        # Whatever is still on its way of the body must not be read as the next request: closed.
        response_headers = [JSON_CONTENT_TYPE, (b"content-length", length), (b"connection", b"close"), *extra_headers]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": answer})

    def refuse_unread(
        self,
        method: str,
        path: str,
        headers: dict[bytes, bytes],
        code: str,
        *,
        status: int | None = None,
        **details: Any,
    ) -> tuple[int, bytes]:
        """Journal a request whose body could not be read as rejected with `code`: answered as any
        unreadable body (200 permissive, the code's status strict), or with `status` when given."""
        # What a request is made of is the tracking endpoint's; imported here, where a refusal needs it.
        from mockpipe.emulator.ingest import _TRUE, _credentials, _received_text, _RequestMeta

        config = self.config
        strict = config.strict or headers.get(b"x-strict-mode", b"").strip().lower() in _TRUE
        meta = _RequestMeta(0, _received_text(datetime.now(UTC)), sys.intern(method), path, headers)
        meta.write_key, meta.auth = _credentials(headers.get(b"authorization", b""))
        try:
            if status is None:
                return self._reject(meta, strict, code, None, **details)
            error = RejectedError(code, **details)
            answer = _error_body(error.code, error.message)
            meta.id = self.journal.next_request_id()
            self.journal.record(meta.record(status, False, error.code, error.message, (), []))
            return status, answer
        except JournalWriteError as exc:
            log.error("%s", exc)
            return 503, _error_body("journal.write_failed", f"{exc}; retry later")

    def keep_failed(self, path: str, headers: dict[bytes, bytes], body: bytes, arrived: float) -> None:
        """Journal a request answered ahead of processing that mockpipe then failed on (a bug, logged):
        rejected, reason `mockpipe.internal`, with the start of its body."""
        from mockpipe.emulator.ingest import KEPT_BODY_BYTES, _credentials, _received_text, _RequestMeta

        meta = _RequestMeta(0, _received_text(datetime.fromtimestamp(arrived, UTC)), "POST", path, headers)
        meta.write_key, meta.auth = _credentials(headers.get(b"authorization", b""))
        meta.size = len(body)
        meta.id = self.journal.next_request_id()
        message = "mockpipe failed on this request; see its log"
        self.journal.record(meta.record(200, False, "mockpipe.internal", message, (), [], body=body[:KEPT_BODY_BYTES]))

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
        meta.id = self.journal.next_request_id()
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
        meta.id = self.journal.next_request_id()  # taken as it is journaled, as every request's id
        self.journal.record(meta.record(status, False, error.code, error.message, (), [], body=kept))
        return status, answer

    def _rejection_status(self, error: RejectedError, strict: bool) -> int:
        status = error.rejection.status
        if strict or status in (404, 405):
            return status
        if self.config.reject_malformed and error.code.startswith("request."):
            return 400
        return 200  # production's permissive mode logs the problem and answers 200
