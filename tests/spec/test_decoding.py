"""Bodies and credentials as the real API reads them."""

from __future__ import annotations

import base64
import gzip
import zlib

import pytest

from mockpipe.spec.decoding import RejectedError, decode_body, parse_authorization

LIMIT = 1000


def test_identity_and_gzip_and_deflate() -> None:
    body = b'{"userId":"u1"}'
    assert decode_body(body, None, LIMIT) == body
    assert decode_body(body, "identity", LIMIT) == body
    assert decode_body(gzip.compress(body), "gzip", LIMIT) == body
    assert decode_body(gzip.compress(body), " GZIP ", LIMIT) == body
    assert decode_body(zlib.compress(body), "deflate", LIMIT) == body
    raw_deflate = zlib.compressobj(wbits=-15)
    assert decode_body(raw_deflate.compress(body) + raw_deflate.flush(), "deflate", LIMIT) == body


def test_gzip_bomb_is_never_inflated_past_the_limit() -> None:
    bomb = gzip.compress(b"0" * 50_000_000)  # ~50 KB that would inflate to 50 MB
    assert len(bomb) < 100_000
    with pytest.raises(RejectedError) as caught:
        decode_body(bomb, "gzip", LIMIT)
    assert caught.value.code == "request.body.too_large"


def test_truncated_and_corrupt_and_unknown_encodings() -> None:
    whole = gzip.compress(b'{"userId":"u1"}' * 10)
    for body in (whole[: len(whole) // 2], b"not gzip at all"):
        with pytest.raises(RejectedError) as caught:
            decode_body(body, "gzip", LIMIT)
        assert caught.value.code == "request.encoding.invalid"
    with pytest.raises(RejectedError) as caught:
        decode_body(b"{}", "br", LIMIT)
    assert caught.value.code == "request.encoding.unsupported"
    with pytest.raises(RejectedError) as caught:
        decode_body(b"x" * (LIMIT + 1), None, LIMIT)
    assert caught.value.code == "request.body.too_large"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic " + base64.b64encode(b"key1:").decode(), ("key1", "basic")),
        ("Basic " + base64.b64encode(b"key1").decode(), ("key1", "basic")),
        ("Basic " + base64.b64encode(b"key1:any-password").decode(), ("key1", "basic")),
        ("basic " + base64.b64encode(b"key1:").decode(), ("key1", "basic")),
        ("Basic key_raw_123", ("key_raw_123", "basic")),
        ("Bearer pk_us_abc", ("pk_us_abc", "bearer")),
        ("Basic " + base64.b64encode(b":secret").decode(), (None, "basic")),
        ("Bearer ", (None, "bearer")),
        ("Digest abc", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_authorization_styles(header: str | None, expected: tuple[str | None, str | None]) -> None:
    assert parse_authorization(header) == expected


def test_gzip_members_one_after_the_other() -> None:
    assert decode_body(gzip.compress(b'{"a":') + gzip.compress(b"1}"), "gzip", LIMIT) == b'{"a":1}'
    with pytest.raises(RejectedError) as caught:
        decode_body(gzip.compress(b"x" * 600) + gzip.compress(b"y" * 600), "gzip", LIMIT)
    assert caught.value.code == "request.body.too_large"
