"""Helpers of the factory tests: the seeds they sweep, violation codes, and a checked POST."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import orjson

from mockpipe.spec.rules import Violation

SEEDS = range(1000)
HTTP_SEEDS = range(25)


def codes(found: list[Violation]) -> list[str]:
    return sorted(v.code for v in found)


def post(http: httpx.Client, path: str, payload: Any, key: str) -> httpx.Response:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    response = http.post(
        path, content=orjson.dumps(payload), headers={"Authorization": auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response
