"""The API's size limits, as its reference states them: 32 KB per call, 500 KB per batch request."""

from __future__ import annotations

import orjson

from mockpipe import ServerConfig, validate
from mockpipe.spec.limits import KB, MAX_BATCH_BYTES, MAX_CALL_BYTES


def test_the_documented_limits() -> None:
    assert (KB, MAX_CALL_BYTES, MAX_BATCH_BYTES) == (1024, 32 * 1024, 500 * 1024)


def test_they_are_the_defaults_of_the_server_and_the_validator() -> None:
    config = ServerConfig()
    assert (config.max_call_bytes, config.max_batch_bytes) == (MAX_CALL_BYTES, MAX_BATCH_BYTES)
    empty = len(orjson.dumps({"userId": "u1", "event": "E", "properties": {"blob": ""}}))
    at_limit = {"userId": "u1", "event": "E", "properties": {"blob": "x" * (MAX_CALL_BYTES - empty)}}
    assert len(orjson.dumps(at_limit)) == MAX_CALL_BYTES
    assert validate(at_limit, call_type="track") == []
    over = {**at_limit, "properties": {"blob": "x" * (MAX_CALL_BYTES - empty + 1)}}
    assert [v.code for v in validate(over, call_type="track")] == ["call.too_large"]
