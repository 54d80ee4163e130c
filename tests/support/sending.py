"""The `send` fixture: `send(mockpipe, "track", {...})` posts one request with the view's write key.

Self-contained on purpose: pytester's test directories use this file's text as their conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

Send = Callable[..., httpx.Response]


@pytest.fixture
def send() -> Iterator[Send]:
    """`send(pipe, path, body, **headers)`: a JSON body, or bytes sent as they are."""
    with httpx.Client(timeout=10.0) as http:

        def post(pipe: Any, path: str, body: Any, **headers: str) -> httpx.Response:
            url, auth = f"{pipe.url}/v1/{path}", (pipe.write_key, "")
            if isinstance(body, bytes):
                return http.post(url, content=body, auth=auth, headers=headers)
            return http.post(url, json=body, auth=auth, headers=headers)

        yield post
