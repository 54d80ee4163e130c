"""Sending calls to a Data Pipelines endpoint as `/v1/batch` requests (for replay and forward).

Batches are packed within the documented limits (32 KiB per call, 500 KiB per request), sent over
one keep-alive connection with Basic auth, and retried as the SDKs do: 408, 429, 5xx and network
errors with exponential back-off, honouring `Retry-After`; any other status is final. A refused
connection (nothing listens there) is given a few quick attempts only, not minutes of back-off.

A strict destination refuses a whole batch (400) for one bad call: `deliver` then fails the calls the
answer names (mockpipe's violation paths `/batch/<i>/...`), or halves the batch until the calls at
fault stand alone (the real service names none), so that the valid calls still get through.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import http.client
import random
import re
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import orjson

from mockpipe.spec.limits import MAX_BATCH_BYTES, MAX_CALL_BYTES
from mockpipe.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

T = TypeVar("T")

BATCH_PATH = "/v1/batch"
# Customer.io documents no count limit; Segment drops the events of a batch beyond 2,500.
MAX_BATCH_CALLS = 2500
RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
SPLIT_STATUSES = frozenset({400, 413})  # the batch was refused for what some of its calls carry
# Nothing listens there, or no such host: retrying for minutes would only hide it.
CANNOT_CONNECT = (ConnectionRefusedError, socket.gaierror)
REFUSED_DELAY = 0.25  # first wait after a refused connection, doubled each time
_BATCH_ITEM = re.compile(r"/batch/(\d+)(?:/|$)")
_ENVELOPE = (b'{"batch":[', b"]}")
# Not sent on: the receiving service sets receivedAt, and the key travels in the Authorization header.
DROPPED_FIELDS = frozenset({"receivedAt", "writeKey"})


def outgoing(payload: Mapping[str, Any]) -> bytes:
    """A journaled or recorded call as sent on: its JSON without the fields of DROPPED_FIELDS."""
    return orjson.dumps({name: value for name, value in payload.items() if name not in DROPPED_FIELDS})


def masked_url(url: str) -> str:
    """`url` fit to print: a password in it becomes `***`, and so does a user name standing alone
    (`https://KEY@host`: likely a key)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unreadable URL>"
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:***" if colon and user else "***"
    return urlunsplit(parts._replace(netloc=f"{shown}@{hostport}"))


def batch_url(url: str) -> str:
    """The `/v1/batch` URL of an endpoint given as its base (`https://cdp.customer.io`), its `/v1`, or
    the batch URL itself. Raises ValueError for anything but an http(s) URL (its credentials masked)."""
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
        parts.port  # noqa: B018  (read for the ValueError of a port that is not a number)
    except ValueError:  # a bad port, an unclosed [
        hostname = None
    if hostname is None or parts.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {masked_url(url)!r}")
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

    def select(self, indices: Iterable[int]) -> Batch[T]:
        """A batch of the calls at these positions, with the same limits."""
        part: Batch[T] = Batch(max_batch_bytes=self.max_batch_bytes, max_calls=self.max_calls)
        for index in indices:
            part.add(self.tags[index], self._items[index])
        return part


class Response(NamedTuple):
    status: int
    retry_after: str | None
    body: bytes


class Endpoint:
    """One keep-alive connection to the `/v1/batch` URL of a Data Pipelines endpoint (one thread)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        full = batch_url(url)
        self.url = masked_url(full)  # what is shown: banner, logs, reports, errors (never a password)
        parts = urlsplit(full)
        self._https = parts.scheme == "https"
        # Credentials in the URL are not sent (the write key is the Basic user); http.client takes host[:port].
        self._netloc = parts.netloc.rpartition("@")[2]
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
    between them, or what the server's `Retry-After` asks (at most `max_retry_after`).

    A refused connection gets `refused_attempts` quick attempts (0.25 s, 0.5 s, 1 s apart: under 2 s
    for 4), then the endpoint is given up as unreachable; None retries it like any network error
    (forward: the destination may be restarting)."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 300.0
    refused_attempts: int | None = 4

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1, 2, ...)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_retry_after)
        # Full back-off with jitter, so that many senders do not come back at the same instant.
        return min(self.cap, self.base * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1.0)

    def refused_delay(self, refusals: int) -> float:
        """Seconds to wait after the `refusals`-th refused connection (1, 2, ...)."""
        return min(self.cap, self.base, REFUSED_DELAY) * 2.0 ** (refusals - 1)


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
    """The end of one batch: accepted (2xx), or refused with the last status and a reason.
    `unreachable`: given up because nothing answered at the endpoint; `body`: the last answer's."""

    accepted: bool
    status: int | None
    reason: str | None
    attempts: int
    unreachable: bool = False
    body: bytes = b""


class Retry(NamedTuple):
    """A failed attempt that will be retried, `delay` seconds from now."""

    attempt: int
    reason: str
    delay: float


def retryable(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def send(
    endpoint: Endpoint,
    body: bytes,
    write_key: str,
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[Retry], None] | None = None,
) -> Outcome:
    """Send one batch until it is accepted, refused for good, the endpoint is found unreachable, or
    `policy.attempts` are spent. `on_retry` is told of each failed attempt before its wait."""
    refusals = 0
    attempt = 0
    while True:
        attempt += 1
        retry_after = None
        refused = False
        try:
            response = endpoint.post(body, write_key)
        except (OSError, http.client.HTTPException) as exc:
            status, reason = None, f"network error: {exc or type(exc).__name__}"
            refused = isinstance(exc, CANNOT_CONNECT) and policy.refused_attempts is not None
        else:
            status = response.status
            if 200 <= status < 300:
                return Outcome(True, status, None, attempt)
            reason = f"HTTP {status}: {_describe(response.body)}"
            if not retryable(status):
                return Outcome(False, status, reason, attempt, body=response.body)
            retry_after = response.retry_after
        refusals += refused
        unreachable = refused and refusals >= (policy.refused_attempts or 0)
        if unreachable or attempt >= policy.attempts:
            return Outcome(
                False, status, f"{reason} (gave up after {attempt} attempts)", attempt, unreachable=unreachable
            )
        delay = policy.refused_delay(refusals) if refused else policy.delay(attempt, retry_after)
        if on_retry is not None:
            on_retry(Retry(attempt, reason, delay))
        sleep(delay)


class Part(NamedTuple, Generic[T]):
    """Calls of a batch and how they ended. `requests`: the batches sent (retries aside) that this part
    accounts for, those of the larger parts it was split from included (0 for the parts after the first)."""

    batch: Batch[T]
    outcome: Outcome
    requests: int


def deliver(
    endpoint: Endpoint,
    batch: Batch[T],
    write_key: str,
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[Batch[T], Retry], None] | None = None,
    _requests: int = 0,
) -> Iterator[Part[T]]:
    """Send `batch` as `send` does; when it is refused as a whole for what some calls carry (400, 413),
    fail the calls the answer names and send the rest again, or, when it names none, send each half
    again, down to the calls at fault. Yields the parts in the end, together covering the batch."""
    outcome = send(
        endpoint,
        batch.body(),
        write_key,
        policy=policy,
        sleep=sleep,
        on_retry=None if on_retry is None else functools.partial(on_retry, batch),
    )
    requests = _requests + 1
    if outcome.accepted or outcome.status not in SPLIT_STATUSES or len(batch) < 2:
        yield Part(batch, outcome, requests)
        return
    named = faulty_items(outcome.body, len(batch))
    if named:
        for index, message in sorted(named.items()):
            yield Part(batch.select([index]), outcome._replace(reason=f"HTTP {outcome.status}: {message}"), requests)
            requests = 0
        rest = [index for index in range(len(batch)) if index not in named]
        parts = [batch.select(rest)] if rest else []
    else:
        middle = len(batch) // 2
        parts = [batch.select(range(middle)), batch.select(range(middle, len(batch)))]
    for part in parts:
        yield from deliver(endpoint, part, write_key, policy=policy, sleep=sleep, on_retry=on_retry, _requests=requests)
        requests = 0


def faulty_items(body: bytes, count: int) -> dict[int, str]:
    """The positions of the batch items an error answer blames, with their messages: from the paths
    of mockpipe's `violations` (`/batch/<i>/...`, errors only). Empty when it names none."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    violations = parsed.get("violations") if isinstance(parsed, dict) else None
    messages: dict[int, list[str]] = {}
    for violation in violations if isinstance(violations, list) else ():
        if not isinstance(violation, dict) or violation.get("severity", "error") != "error":
            continue
        found = _BATCH_ITEM.match(str(violation.get("path", "")))
        if found is not None and int(found[1]) < count:
            messages.setdefault(int(found[1]), []).append(str(violation.get("message", "")))
    return {index: "; ".join(texts) for index, texts in messages.items()}


def _describe(body: bytes) -> str:
    """The message of an error answer: the documented `{"meta": {"errors": [...]}}`, Segment's
    `{"code","message"}`, or its text."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        meta = parsed.get("meta")
        errors = meta.get("errors") if isinstance(meta, dict) else None
        if isinstance(errors, list) and errors:
            return "; ".join(map(str, errors))[:300]
        if isinstance(parsed.get("message"), str):
            return str(parsed["message"])[:300]
    text = body.decode("utf-8", "replace").strip()
    return text[:300] or "(no body)"
