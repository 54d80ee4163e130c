"""Reading requests as the real API does: body bytes, content encodings and credentials, before the JSON
is cut into calls (`mockpipe.spec.validator`). No web framework here."""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from mockpipe.errors import MockpipeError
from mockpipe.spec.rules import REJECTIONS

# The tracking endpoints (`/v1/{name}`) and the call type of each; "batch" cuts the body into calls.
ENDPOINT_TYPES = {
    "identify": "identify", "track": "track", "page": "page", "screen": "screen", "group": "group",
    "alias": "alias", "batch": "batch",
    "i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group", "a": "alias", "b": "batch",
}  # fmt: skip
# Compressed bodies may be a little larger than what they inflate to (incompressible data).
COMPRESSED_SLACK = 64 * 1024


class RejectedError(MockpipeError):
    """A request that cannot be processed, with the rejection code of the catalogue and its details."""

    def __init__(self, code: str, **details: Any) -> None:
        self.code = code
        self.rejection = REJECTIONS[code]
        self.message = self.rejection.message(**details)
        super().__init__(self.message)


def decode_body(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """The body after Content-Encoding, never inflating more than `limit` + 1 bytes (gzip bombs).

    Raises `RejectedError` for an unknown encoding, corrupt or truncated data, or a body over `limit`.
    """
    name = (encoding or "").strip().lower()
    if name in ("", "identity"):
        decoded = raw
    elif name in ("gzip", "x-gzip"):
        decoded = _inflate(raw, 16 + zlib.MAX_WBITS, limit, "gzip")
    elif name == "deflate":
        # HTTP "deflate" is zlib-wrapped, but some clients send raw deflate streams.
        try:
            decoded = _inflate(raw, zlib.MAX_WBITS, limit, "deflate")
        except RejectedError as exc:
            if exc.code != "request.encoding.invalid":
                raise
            decoded = _inflate(raw, -zlib.MAX_WBITS, limit, "deflate")
    else:
        raise RejectedError("request.encoding.unsupported", encoding=encoding)
    if len(decoded) > limit:
        raise RejectedError("request.body.too_large", limit=limit)
    return decoded


def _inflate(raw: bytes, wbits: int, limit: int, name: str) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, limit + 1)
        # A gzip body may hold several members one after the other (RFC 1952): inflate them all.
        while name == "gzip" and inflater.eof and inflater.unused_data and len(out) <= limit:
            rest = inflater.unused_data
            inflater = zlib.decompressobj(wbits)
            out += inflater.decompress(rest, limit + 1 - len(out))
    except zlib.error as exc:
        raise RejectedError("request.encoding.invalid", encoding=name, detail=str(exc)) from None
    if len(out) > limit:
        raise RejectedError("request.body.too_large", limit=limit)
    if not inflater.eof:
        raise RejectedError("request.encoding.invalid", encoding=name, detail="the stream is truncated")
    return out


def parse_authorization(header: str | None) -> tuple[str | None, str | None]:
    """The write key and auth style ("basic" or "bearer") of an Authorization header, if any.

    Basic carries the key as username, with or without the colon and with any password; an old
    documented form puts the raw key after "Basic " without base64, which is accepted too.
    """
    if not header:
        return None, None
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    scheme = scheme.lower()
    if scheme == "bearer":
        return credentials or None, "bearer"
    if scheme != "basic":
        return None, None
    try:
        text = base64.b64decode(credentials, validate=True).decode("utf-8")
        if not text.isprintable():
            raise ValueError("not text")
    except (binascii.Error, ValueError):
        text = credentials  # the raw key, not base64
    username = text.split(":", 1)[0]
    return username or None, "basic"
