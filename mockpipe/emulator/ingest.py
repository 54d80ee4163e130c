"""The tracking endpoints (`POST /v1/{identify,track,page,screen,group,alias,batch}` and the SDK
short forms `/v1/{i,t,p,s,g,a,b}`), as a plain ASGI app: the hot path of the emulator.

Every request ends in the journal, accepted or not. Permissive by default, as production is: a call
that breaks the spec is answered 200 and kept as invalid; with `X-Strict-Mode: 1` (or a strict server)
it is answered 400, and a credential problem 401.

A permissive answer does not depend on the request, so it is sent at once: the request is left to the
journal's backlog as it arrived, and processed (split, validated, enriched, indexed) before anyone
reads the journal (`mockpipe.journal.backlog`). A strict request, a request a fault rule may take, and
every request while a durable listener (a store, a recording) is subscribed are processed before
their answer, which depends on it.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING, Any

import orjson

from mockpipe.emulator.body import BodyDeadlines, read_body
from mockpipe.emulator.draining import KEPT_HEADERS, STRICT_VALUES, Drainer
from mockpipe.emulator.error_body import tracking_error as _error_body
from mockpipe.emulator.fault_delivery import InjectedFault, adding_headers
from mockpipe.emulator.faults import Faults
from mockpipe.emulator.in_flight import IN_FLIGHT_KEPT, InFlight
from mockpipe.emulator.refusals import JSON_CONTENT_TYPE, OK_BODY, Refusals
from mockpipe.emulator.slices import SLICE_ITEMS, LongBatch
from mockpipe.errors import JournalWriteError
from mockpipe.journal.packed import index_fields
from mockpipe.journal.records import Call, RequestRecord, builder, reader
from mockpipe.plans.registry import PlanRegistry
from mockpipe.spec.decoding import COMPRESSED_SLACK, ENDPOINT_TYPES, RejectedError, decode_body, parse_authorization
from mockpipe.spec.enrich import enrich
from mockpipe.spec.jsonvalues import json_kind
from mockpipe.spec.rules import Violation
from mockpipe.spec.times import EPOCH as _EPOCH, MILLISECOND as _MILLISECOND, time_text
from mockpipe.spec.validator import Item, split_request, violations_of
from mockpipe.types import CALL_TYPE_SET

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from starlette.types import Receive, Scope, Send

    from mockpipe.emulator.config import ServerConfig
    from mockpipe.journal.backlog import PendingRequest
    from mockpipe.journal.journal import Journal

log = logging.getLogger("mockpipe.emulator.ingest")

SPEC_VIOLATION = "spec.violation"
KEPT_BODY_BYTES = 8 * 1024  # of a rejected request, to show what was wrong
_JSON_HEADERS = [JSON_CONTENT_TYPE]
_OK_HEADERS = [JSON_CONTENT_TYPE, (b"content-length", str(len(OK_BODY)).encode())]
_TRUE = STRICT_VALUES
_CALL_ID = reader(Call, "id")  # of a Call, at C speed
# Records built from values in the order of these field names (index_fields gives the five ids and
# names in its order); a keyword call costs three times as much, for every call received.
_BUILD_CALL = builder(
    Call, "id", "request_id", "write_key", "type", "received_at", "region", "path", "valid", "accepted",
    "violations", "message_id", "user_id", "anonymous_id", "event", "name", "raw", "duplicate_of",
)  # fmt: skip
_BUILD_REQUEST = builder(
    RequestRecord, "id", "received_at", "method", "path", "write_key", "auth", "status", "accepted", "reason",
    "message", "violations", "call_ids", "size", "content_encoding", "user_agent", "retry_count", "body", "fault",
)  # fmt: skip


class Ingest(Refusals):
    """ASGI app for the tracking endpoints, mounted at `/v1/{endpoint}`."""

    def __init__(
        self, config: ServerConfig, journal: Journal, faults: Faults | None = None, plans: PlanRegistry | None = None
    ) -> None:
        self.config = config
        self.journal = journal
        self.faults = faults if faults is not None else Faults()  # the emulator's: see `Emulator.faults`
        self.plans = plans if plans is not None else PlanRegistry()  # the emulator's: see `Emulator.plans`
        self.deadlines = BodyDeadlines(config.body_timeout)
        self.in_flight = InFlight()
        journal.backlog.processor = self.process_pending
        self.plans.settled = journal.backlog.paused
        self.drainer = Drainer(journal, self.faults, config, bound=journal.max_calls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.respond(scope, receive, send)

    async def respond(
        self, scope: Scope, receive: Receive, send: Send, extra_headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        """Serve one request, adding `extra_headers` (CORS, say) to whatever answers it; counted in flight
        (by its Authorization header, decoded only when `/mockpipe/settle` asks) until it is answered."""
        headers = dict(scope["headers"])  # ASGI header names are lower-case bytes
        auth = headers.get(b"authorization")
        counts = self.in_flight.counts
        counts[auth] = counts.get(auth, 0) + 1
        try:
            await self._respond(scope, receive, send, extra_headers, headers)
        finally:
            left = counts[auth] - 1
            if left:
                counts[auth] = left
            else:
                del counts[auth]
            ended = self.in_flight.ended
            if len(ended) >= IN_FLIGHT_KEPT and auth not in ended:
                ended.clear()  # one entry per write key ever seen: bounded, at the cost of forgetting quiet ones
            ended[auth] = monotonic()

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        extra_headers: Sequence[tuple[bytes, bytes]],
        headers: dict[bytes, bytes],
    ) -> None:
        body = b""
        overflow = False
        if scope["method"] == "POST":
            body, overflow, incomplete = await read_body(receive, self._raw_limit(headers), self.deadlines)
            if incomplete is not None:  # the client went away mid-body, stalled, or the server is stopping
                await self._answer_incomplete(scope, send, headers, incomplete, extra_headers)
                return
            if scope["path"] in TRACKING_PATHS and self.drainer.takes(headers, body):
                # Answered 200 `{}` whatever it holds: processed when anyone reads.
                self.drainer.defer(scope["path"], headers, body, overflow)
                await send({"type": "http.response.start", "status": 200, "headers": [*_OK_HEADERS, *extra_headers]})
                await send({"type": "http.response.body", "body": OK_BODY})
                return
        try:
            try:
                status, answer = self.handle(scope["method"], scope["path"], headers, body, overflow, pausable=True)
            except LongBatch as long:  # the rest is taken a slice at a time, the event loop turning between two
                status, answer = await long.finish()
        except InjectedFault as fault:  # journaled by handle; answered late, differently, or not at all
            await fault.deliver(scope, receive, adding_headers(extra_headers, send) if extra_headers else send)
            return
        except JournalWriteError as exc:  # the store or a recording failed: not acknowledged, so retried
            log.error("%s", exc)
            status, answer = 503, _error_body("journal.write_failed", f"{exc}; retry later")
        except Exception:  # a bug here must not become a 500 for the client, nor lose the request
            log.exception("mockpipe failed on %s %s", scope["method"], scope["path"])
            status, answer = 400, _error_body("mockpipe.internal", "mockpipe failed on this request; see its log")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(answer)).encode()), *extra_headers],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def process_pending(self, pending: PendingRequest) -> None:
        """Process a request answered earlier (the backlog's processor), as if it had just arrived."""
        path, kept, body, overflow, arrived = pending
        headers = {name: value for name, value in zip(KEPT_HEADERS, kept, strict=True) if value is not None}
        try:
            self.handle("POST", path, headers, body, overflow, arrived=arrived)
        except JournalWriteError as exc:  # a durable listener subscribed since: the client had its answer
            log.error("%s", exc)
        except Exception:  # a bug of mockpipe's: the request, answered already, is kept with the reason
            log.exception("mockpipe failed on a request to %s answered ahead of processing", path)
            self.keep_failed(path, headers, body, arrived)

    def _raw_limit(self, headers: dict[bytes, bytes]) -> int:
        encoded = headers.get(b"content-encoding", b"").strip() not in (b"", b"identity")
        return self.config.max_batch_bytes + (COMPRESSED_SLACK if encoded else 0)

    def handle(
        self,
        method: str,
        path: str,
        headers: dict[bytes, bytes],
        raw: bytes,
        overflow: bool,
        *,
        pausable: bool = False,
        arrived: float | None = None,
    ) -> tuple[int, bytes]:
        """Answer one request: (status, JSON body). Records it, and its calls, in the journal.

        With `pausable`, a batch of more than `SLICE_ITEMS` calls raises `LongBatch` after its first slice,
        to be finished a slice at a time. Ids are taken as the request is journaled, so the journal keeps
        the order of its ids whatever is journaled meanwhile. `arrived` (a POSIX time) is given for a
        request answered earlier and processed now (no fault rule takes it: it was answered)."""
        config = self.config
        strict = config.strict or headers.get(b"x-strict-mode", b"").strip().lower() in _TRUE
        received = datetime.now(UTC) if arrived is None else datetime.fromtimestamp(arrived, UTC)
        # Method and path are new strings per request: shared ones keep the journal small.
        meta = _RequestMeta(
            0,  # its id is taken as it is journaled
            _received_text(received),
            sys.intern(method),
            sys.intern(path) if len(path) <= 64 else path,
            headers,
        )
        meta.write_key, meta.auth = _credentials(headers.get(b"authorization", b""))

        endpoint = path.rsplit("/", 1)[-1]
        path_type = ENDPOINT_TYPES.get(endpoint) if path.count("/") == 2 else None
        if path_type is None:
            return self._reject(meta, strict, "request.not_found", raw[:KEPT_BODY_BYTES], path=path)
        if method != "POST":
            return self._reject(meta, strict, "request.method", None, method=method, path=path)
        if overflow:
            meta.size = len(raw)
            return self._reject(meta, strict, "request.body.too_large", None, limit=config.max_batch_bytes)
        encoding = headers.get(b"content-encoding")
        meta.content_encoding = encoding.decode("latin-1") if encoding else None
        try:
            decoded = (
                raw
                if encoding is None and len(raw) <= config.max_batch_bytes
                else decode_body(raw, meta.content_encoding, config.max_batch_bytes)
            )
        except RejectedError as exc:
            meta.size = len(raw)
            return self._reject_with(meta, strict, exc, raw[:KEPT_BODY_BYTES])
        meta.size = len(decoded)
        kept = decoded[:KEPT_BODY_BYTES]
        if not decoded or decoded.isspace():
            return self._reject(meta, strict, "request.body.empty", kept)
        try:
            body = orjson.loads(decoded)
        except orjson.JSONDecodeError as exc:
            return self._reject(meta, strict, "request.json.invalid", kept, detail=str(exc))
        if not isinstance(body, dict):
            return self._reject(meta, strict, "request.json.not_object", kept, kind=json_kind(body))

        if meta.write_key is None:
            body_key = body.get("writeKey")
            if isinstance(body_key, str) and body_key:
                meta.write_key, meta.auth = sys.intern(body_key), "body"
        if meta.write_key is None:
            return self._reject(meta, strict, "auth.missing", kept)
        if config.write_keys and meta.write_key not in config.write_keys:  # config.accepts_key, inline
            return self._reject(meta, strict, "auth.unknown_key", kept, key=meta.write_key)

        try:
            if self.faults.active and arrived is None:  # one attribute test: free while no fault is configured
                self._inject(meta, strict, path_type, body, received, kept)
            return self._accept(meta, strict, path_type, body, received, pausable, kept)
        except RejectedError as exc:  # a call that cannot be stored: nothing of the request was kept
            return self._reject_with(meta, strict, exc, kept)

    def _accept(
        self,
        meta: _RequestMeta,
        strict: bool,
        path_type: str,
        body: dict[str, Any],
        received: datetime,
        pausable: bool = False,
        kept: bytes = b"",
    ) -> tuple[int, bytes]:
        steps = self._accept_steps(meta, strict, path_type, body, received)
        answer = None
        for answer in steps:  # None after a slice, the answer last (run to its end: a cheap close)
            if answer is None and pausable:
                raise LongBatch(steps, lambda exc: self._reject_with(meta, strict, exc, kept))
        assert answer is not None  # the last step answers
        return answer

    def _accept_steps(
        self, meta: _RequestMeta, strict: bool, path_type: str, body: dict[str, Any], received: datetime
    ) -> Iterator[tuple[int, bytes] | None]:
        config = self.config
        write_key = meta.write_key
        assert write_key is not None  # checked by the caller; narrows the type
        items, envelope = split_request(
            path_type, body, body_size=meta.size, max_call_bytes=config.max_call_bytes, stop=SLICE_ITEMS
        )
        batch = body.get("batch") if path_type == "batch" else None
        size = len(batch) if isinstance(batch, list) else 0
        for start in range(SLICE_ITEMS, size, SLICE_ITEMS) if size > SLICE_ITEMS else ():
            yield None  # a long batch is cut a slice at a time
            more, more_envelope = split_request(
                path_type, body, body_size=meta.size, max_call_bytes=config.max_call_bytes, start=start,
                stop=start + SLICE_ITEMS,
            )  # fmt: skip
            items += more
            envelope += more_envelope
        failed = [v for v in envelope if v.severity == "error"]
        checked: list[tuple[Item, bool, tuple[Violation, ...], bytes]] = []
        max_bytes, region = config.max_call_bytes, config.region
        # The plan in force for this key, taken once: a PUT or a reload changes the next request's verdicts.
        plan = self.plans.entry_for(write_key) if self.plans.active else None
        checker = None if plan is None else plan.checker
        received_at = meta.received_at
        appended = b',"receivedAt":"%s"}' % received_at.encode()
        for item in items:  # most calls break no rule: nothing is built for violations then
            if item.index and not item.index % SLICE_ITEMS:
                yield None  # and checked a slice at a time
            violations = violations_of(item, max_call_bytes=max_bytes, region=region, write_key=write_key)
            if checker is not None and not checker.is_clean(item.type, item.payload):
                # After the spec's checks; the full report only for a call the fast lane does not pass.
                found = checker.report(item.type, item.payload)
                if found:
                    violations = [*violations, *(v.to_violation() for v in found)]
            valid = True
            if violations:
                errors = [v.at(item.pointer) for v in violations if v.severity == "error"]
                valid = not errors
                failed += errors
            # Enriched after its checks (enriching fills in what they look for), before it takes an id:
            # a call that cannot be stored rejects the request with no id spent.
            checked.append(
                (
                    item,
                    valid,
                    tuple(violations) if violations else (),
                    _enriched_json(item, received, received_at, appended),
                )
            )
        accepted = not (strict and failed)
        meta.id = self.journal.next_request_id()  # the ids are taken with no step between them and the record
        first_id, request_id, path = self.journal.take_call_ids(len(checked)), meta.id, meta.path
        # The fields in the order _BUILD_CALL names them; duplicate_of is None: the journal marks resends.
        # fmt: off
        calls = [
            _BUILD_CALL((call_id, request_id, write_key, item.type, received_at, region, path, valid, accepted,
                         call_violations, *index_fields(item.payload), raw, None))
            for call_id, (item, valid, call_violations, raw) in enumerate(checked, first_id)
        ]
        # fmt: on
        if accepted:
            status, answer, reason, message = 200, OK_BODY, None, None
        else:
            kind = "spec" if all(v.plan is None for v in failed) else "spec and tracking-plan"
            message = f"{len(failed)} {kind} violation(s); first: {failed[0].message}"
            status, answer, reason = 400, _error_body(SPEC_VIOLATION, message, failed), SPEC_VIOLATION
        self.journal.record(meta.record(status, accepted, reason, message, tuple(envelope), calls), calls)
        if plan is not None and accepted:  # coverage counts what the journal took in
            self.plans.observe_all(plan, write_key, [(entry[0].type, entry[0].payload) for entry in checked])
        yield status, answer


TRACKING_PATHS = frozenset(f"/v1/{endpoint}" for endpoint in ENDPOINT_TYPES)


class _RequestMeta:
    """What is known of a request while it is being read."""

    __slots__ = (
        "auth",
        "content_encoding",
        "fault",
        "headers",
        "id",
        "method",
        "path",
        "received_at",
        "size",
        "write_key",
    )

    def __init__(self, request_id: int, received_at: str, method: str, path: str, headers: dict[bytes, bytes]):
        self.id = request_id
        self.received_at = received_at
        self.method = method
        self.path = path
        self.headers = headers
        self.write_key: str | None = None
        self.auth: str | None = None
        self.size = 0
        self.content_encoding: str | None = None
        self.fault: str | None = None  # the injected fault that answers, or delays, this request

    def record(
        self,
        status: int,
        accepted: bool,
        reason: str | None,
        message: str | None,
        violations: tuple[Violation, ...],
        calls: Sequence[Call],
        *,
        body: bytes | None = None,
    ) -> RequestRecord:
        user_agent = self.headers.get(b"user-agent")
        retry_count = self.headers.get(b"x-retry-count")
        return _BUILD_REQUEST((
            self.id, self.received_at, self.method, self.path, self.write_key, self.auth, status, accepted, reason,
            message, violations, tuple(map(_CALL_ID, calls)), self.size, self.content_encoding,
            sys.intern(user_agent.decode("latin-1")) if user_agent else None,
            retry_count.decode("latin-1") if retry_count else None, body, self.fault,
        ))  # fmt: skip


def _enriched_json(item: Item, received: datetime, received_text: str, appended: bytes) -> bytes:
    """The JSON the journal keeps of a call, enriched. When the call was already written out (to
    measure it) and enriching would only add `receivedAt`, the JSON is that one with it appended: the
    same bytes as enriching the call and writing it out again, for a tenth of the time. (The payload
    itself is then left as it is: what is read of it next, its ids and names, enriching leaves alone.)
    `appended`: `,"receivedAt":"<received_text>"}`, made once per request."""
    payload, sent = item.payload, item.json
    if (
        sent is not None
        and len(sent) > 2
        and "receivedAt" not in payload
        and payload.get("messageId")
        and payload.get("timestamp") is not None
        and (item.type not in CALL_TYPE_SET or payload.get("type") == item.type)
    ):
        return sent[:-1] + appended
    if payload.get("messageId") and payload.get("timestamp") is not None and item.type in CALL_TYPE_SET:
        # What SDKs send: enriching only sets the type and receivedAt (`enrich` does the rest).
        payload["type"] = item.type
        payload["receivedAt"] = received_text
    else:
        enrich(item.type, payload, received, received_text, item.index)
    return _json(payload)


def _json(payload: dict[str, Any]) -> bytes:
    """The JSON the journal keeps of a call."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:  # parsed from JSON, so only nesting beyond orjson's 254 levels
        raise RejectedError("request.json.invalid", detail="nested too deeply to store (over 254 levels)") from None


# Decoded Authorization headers: a client sends the same one on every request (time and memory).
_CREDENTIALS: dict[bytes, tuple[str | None, str | None]] = {}
_CREDENTIALS_KEPT = 4096


def _credentials(header: bytes) -> tuple[str | None, str | None]:
    found = _CREDENTIALS.get(header)
    if found is None:
        key, style = parse_authorization(header.decode("latin-1"))
        found = (sys.intern(key) if key else key, style)
        if len(_CREDENTIALS) >= _CREDENTIALS_KEPT:
            _CREDENTIALS.clear()
        _CREDENTIALS[header] = found
    return found


def _received_text(moment: datetime) -> str:
    """`format_time(moment)`. `time_text` remembers it with its milliseconds, so the journal, which
    keeps times as milliseconds, finds them without parsing the text back."""
    return time_text((moment - _EPOCH) // _MILLISECOND)
