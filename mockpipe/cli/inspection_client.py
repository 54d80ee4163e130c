"""The client of a running mockpipe's inspection API (`/mockpipe/...`), for `calls` and `export`.

Built on httpx: one kept-alive connection for the many small requests of a listing or a follow, a
timeout on each, and the failures turned into `InspectionError`s that say what went wrong.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from mockpipe.errors import MockpipeError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

    from mockpipe.types import JSONObject

PAGE = 1000  # calls asked for at a time
FOLLOW_POLL_SECONDS = 30.0  # each long-poll of --follow; the server answers as soon as a call lands


class InspectionError(MockpipeError):
    """A running mockpipe could not be reached, or answered an error (`status`) or something else than JSON."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _connect_problem(exc: httpx.ConnectError) -> str:
    """Why a connection failed, in words: "connection refused" says that nothing listens there."""
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused (is `mockpipe serve` running there?)"
    return text.splitlines()[0] if text else "connection failed"


def _error_message(response: httpx.Response, body: Any) -> str:
    """One line for an error answer: mockpipe's own `code: message`, else the status and a short plain
    text; never another server's HTML page."""
    where = f"{response.url}: HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str):
        return f"{where} {body['code']}: {body['message']}"
    text = response.text.strip()
    if "html" in response.headers.get("content-type", "").lower() or text.startswith("<"):
        return f"{where} with an HTML page, not an answer of mockpipe's API: is it a mockpipe?"
    first = text.splitlines()[0][:200] if text else "(empty)"
    return f"{where}: {first}"


class InspectionClient:
    """Reads the inspection API of a running mockpipe. Close it (or use it in a `with` block)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(timeout=timeout)

    def __enter__(self) -> InspectionClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, str], *, timeout: float | None = None) -> JSONObject:
        """GET a JSON object; raises InspectionError when the server is unreachable, answers an error,
        or answers something that is not a JSON object."""
        url = f"{self.url}{path}"
        wait = timeout or self.timeout
        try:
            response = self._http.get(url, params=params, timeout=wait)
        except httpx.UnsupportedProtocol:
            raise InspectionError(f"{self.url!r} is not an http:// or https:// URL") from None
        except httpx.InvalidURL as exc:
            raise InspectionError(f"{self.url!r} is not a valid URL: {exc}") from None
        except httpx.ConnectError as exc:
            raise InspectionError(f"cannot reach mockpipe at {self.url}: {_connect_problem(exc)}") from None
        except httpx.TimeoutException:
            raise InspectionError(f"mockpipe at {self.url} did not answer within {wait:g} s") from None
        except httpx.TransportError as exc:
            raise InspectionError(
                f"lost the connection to mockpipe at {self.url}: {exc or type(exc).__name__}"
            ) from None
        try:
            body: Any = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if response.is_error:
            raise InspectionError(_error_message(response, body), status=response.status_code)
        if not isinstance(body, dict):
            raise InspectionError(f"{response.url} did not answer a JSON object: is it a mockpipe?")
        return body

    def calls(self, params: dict[str, str], *, limit: int | None = None) -> Iterator[JSONObject]:
        """The calls matching `params`, oldest first, page after page."""
        after: int | None = None
        left = limit
        while left is None or left > 0:
            page = dict(params, limit=str(PAGE if left is None else min(PAGE, left)))
            if after is not None:
                page["after"] = str(after)
            answer = self.get("/mockpipe/calls", page)
            calls: list[JSONObject] = answer["calls"]
            yield from calls
            if left is not None:
                left -= len(calls)
            if answer.get("next") is None:
                return
            after = answer["next"]

    def newest(self, params: dict[str, str], count: int) -> list[JSONObject]:
        """The newest `count` calls matching `params`, oldest first.

        Found without reading every page: the ids are halved down to the last one with `count`
        calls after it, each step a long-poll of no time that only says whether there are."""
        if count <= 0:
            return []

        def enough_after(after: int) -> bool:
            query = dict(params, after=str(after), count=str(count), timeout="0", limit="0")
            return not self.get("/mockpipe/calls/wait", query)["timedOut"]

        low, high = 0, count  # enough_after(low) holds, then not enough_after(high)
        if enough_after(low):
            while enough_after(high):
                low, high = high, 2 * high
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if enough_after(middle) else (low, middle)
        # All the calls after it: calls that landed meanwhile push the oldest out.
        return list(deque(self.calls(dict(params, after=str(low))), maxlen=count))

    def call(self, call_id: int) -> JSONObject | None:
        """One call by id, or None if the server has none of that id."""
        try:
            return self.get(f"/mockpipe/calls/{call_id}", {})
        except InspectionError as exc:
            if exc.status == 404:
                return None
            raise

    def instance(self) -> str | None:
        """The id of the server's run, new at each start (None from a mockpipe that has none)."""
        instance = self.get("/mockpipe/health", {}).get("instance")
        return None if instance is None else str(instance)

    def wait(
        self, after: int, params: dict[str, str], *, instance: str | None = None, timeout: float = FOLLOW_POLL_SECONDS
    ) -> tuple[list[JSONObject], str | None]:
        """The calls after id `after` (a page at most), as soon as there is one (or none once `timeout` has
        passed), and the run of the server that answered. With `instance` (the run `after` belongs to),
        another run answers at once: the id is not its own."""
        query = dict(params, after=str(after), count="1", timeout=str(timeout), limit=str(PAGE))
        if instance is not None:
            query["instance"] = instance
        answer = self.get("/mockpipe/calls/wait", query, timeout=timeout + self.timeout)
        calls: list[JSONObject] = answer["calls"]
        answered_by = answer.get("instance")
        return calls, None if answered_by is None else str(answered_by)
