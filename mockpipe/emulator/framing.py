"""The emulator's answers to requests the HTTP layer cannot frame: a body that ends early, and a
`Transfer-Encoding` h11 does not implement. Without them Hypercorn answers these by itself (a bare 400,
or a 501); `mockpipe.emulator.server.AppAnsweringH11Protocol` asks the app through these two hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from mockpipe.emulator.cors import allow_origin
from mockpipe.emulator.error_body import error_body
from mockpipe.emulator.ingest import TRACKING_PATHS
from mockpipe.spec.decoding import RejectedError

if TYPE_CHECKING:
    from starlette.types import Scope

    from mockpipe.emulator.ingest import Ingest

UNFRAMED = "request.transfer_encoding.unsupported"
_JSON = (b"content-type", b"application/json")


class FramingAnswers:
    """A mixin of `mockpipe.emulator.app.EmulatorApp`: the two hooks of the HTTP layer."""

    ingest: Ingest

    def answers_cut_body(self, scope: Scope) -> bool:
        """Whether the app answers this request when its body ends early: the tracking endpoints do
        (`request.incomplete`, journaled), so the HTTP layer hands them the end instead of answering."""
        return scope["method"] == "POST" and scope["path"] in TRACKING_PATHS

    def answer_unframed(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]], coding: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """(status, headers, body) of a request whose Transfer-Encoding h11 does not implement: 400, never
        the 501 of RFC 9112 (no client input gets a 5xx). On a tracking path it is journaled as rejected, and
        answered 400 in permissive mode too: the body was not read, so nothing can be acknowledged."""
        fields = dict(headers)
        if path in TRACKING_PATHS:
            status, body = self.ingest.refuse_unread(method, path, fields, UNFRAMED, status=400, coding=coding)
            return status, [_JSON, *allow_origin(fields.get(b"origin"))], body
        message = RejectedError(UNFRAMED, coding=coding).message
        return 400, [_JSON], orjson.dumps(error_body(UNFRAMED, message))
