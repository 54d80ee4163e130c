"""Sending calls to a Data Pipelines endpoint as `/v1/batch` requests (for replay and forward).

Batches are packed within the documented limits (32 KiB per call, 500 KiB per request), sent over
one keep-alive connection with Basic auth, and retried as the SDKs do: 408, 429, 5xx and network
errors with exponential back-off, honouring `Retry-After`; any other status is final.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from urllib.parse import urlsplit

import orjson

from mockpipe.validation import MAX_BATCH_BYTES, MAX_CALL_BYTES
from mockpipe.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

T = TypeVar("T")

BATCH_PATH = "/v1/batch"
# Customer.io documents no count limit; Segment drops the events of a batch beyond 2,500.
MAX_BATCH_CALLS = 2500
RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
_ENVELOPE = (b'{"batch":[', b"]}")
# Not sent on: the receiving service sets receivedAt, and the key travels in the Authorization header.
DROPPED_FIELDS = frozenset({"receivedAt", "writeKey"})


def outgoing(payload: Mapping[str, Any]) -> bytes:
    """A journaled or recorded call as sent on: its JSON without the fields of DROPPED_FIELDS."""
    return orjson.dumps({name: value for name, value in payload.items() if name not in DROPPED_FIELDS})


def batch_url(url: str) -> str:
    """The `/v1/batch` URL of an endpoint given as its base (`https://cdp.customer.io`), its `/v1`, or
    the batch URL itself. Raises ValueError for anything but an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    path = parts.path.rstrip("/")
    for suffix in ("/batch", "/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return f"{parts.scheme}://{parts.netloc}{path}{BATCH_PATH}"


def too_large(item: bytes, *, max_call_bytes: int = MAX_CALL_BYTES) -> str | None:
    """Why a JSON-encoded call cannot be sent (over the per-call limit), or None."""
    if len(item) > max_call_bytes:
        return f"call of {len(item)} bytes is over the {max_call_bytes}-byte limit per call"
    return None


class Batch(Generic[T]):
    """JSON-encoded calls packed into one `{"batch": [...]}` body within the size and count limits;
    each call carries a tag of the caller's (a call id, a line number)."""

    def __init__(self, *, max_batch_bytes: int = MAX_BATCH_BYTES, max_calls: int = MAX_BATCH_CALLS) -> None:
        self.max_batch_bytes = max_batch_bytes
        self.max_calls = max_calls
        self.tags: list[T] = []
        self._items: list[bytes] = []
        self._size = sum(map(len, _ENVELOPE))

    def __len__(self) -> int:
        return len(self._items)

    def fits(self, item: bytes) -> bool:
        """Whether `item` can join (an empty batch takes any call within the per-call limit)."""
        if not self._items:
            return True
        return len(self._items) < self.max_calls and self._size + 1 + len(item) <= self.max_batch_bytes

    def add(self, tag: T, item: bytes) -> None:
        self._size += len(item) + (1 if self._items else 0)
        self._items.append(item)
        self.tags.append(tag)

    def body(self) -> bytes:
        return _ENVELOPE[0] + b",".join(self._items) + _ENVELOPE[1]


class Response(NamedTuple):
    status: int
    retry_after: str | None
    body: bytes


class Endpoint:
    """One keep-alive connection to the `/v1/batch` URL of a Data Pipelines endpoint (one thread)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = batch_url(url)
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._path = parts.path
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, write_key: str) -> Response:
        """POST one batch with the key as Basic username. Raises OSError or HTTPException on network errors."""
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode("ascii"),
            "User-Agent": f"mockpipe/{__version__}",
        }
        reused = self._connection is not None
        try:
            return self._post(body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # The server closed the idle kept-alive connection before this request reached it: reconnect once.
            return self._post(body, headers)

    def _post(self, body: bytes, headers: dict[str, str]) -> Response:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._netloc, timeout=self.timeout)
        try:
            self._connection.request("POST", self._path, body, headers)
            response = self._connection.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return Response(response.status, response.getheader("Retry-After"), data)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long to insist: `attempts` in all, waiting `base` * 2**n seconds (with jitter, at most `cap`)
    between them, or what the server's `Retry-After` asks (at most `max_retry_after`)."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 300.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1, 2, ...)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_retry_after)
        # Full back-off with jitter, so that many senders do not come back at the same instant.
        return min(self.cap, self.base * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Outcome(NamedTuple):
    """The end of one batch: accepted (2xx), or refused with the last status and a reason."""

    accepted: bool
    status: int | None
    reason: str | None
    attempts: int


def retryable(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def send(
    endpoint: Endpoint, body: bytes, write_key: str, *, policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep, on_retry: Callable[[int, str], None] | None = None,
) -> Outcome:
    """Send one batch until it is accepted, refused for good, or `policy.attempts` are spent.
    `on_retry(attempt, reason)` is told of each failed attempt that will be retried."""
    status: int | None = None
    reason = ""
    for attempt in range(1, policy.attempts + 1):
        retry_after = None
        try:
            response = endpoint.post(body, write_key)
        except (OSError, http.client.HTTPException) as exc:
            status, reason = None, f"network error: {exc or type(exc).__name__}"
        else:
            status = response.status
            if 200 <= status < 300:
                return Outcome(True, status, None, attempt)
            reason = f"HTTP {status}: {_describe(response.body)}"
            if not retryable(status):
                return Outcome(False, status, reason, attempt)
            retry_after = response.retry_after
        if attempt < policy.attempts:
            if on_retry is not None:
                on_retry(attempt, reason)
            sleep(policy.delay(attempt, retry_after))
    return Outcome(False, status, f"{reason} (gave up after {policy.attempts} attempts)", policy.attempts)


def _describe(body: bytes) -> str:
    """The message of an error answer: Segment's `{"code","message"}` shape, or its text."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return str(parsed["message"])[:300]
    text = body.decode("utf-8", "replace").strip()
    return text[:300] or "(no body)"
