"""The emulator on Hypercorn in a background thread: for tests, the pytest plugin and scripts."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import h11
import hypercorn.protocol
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.events import Event, RawData
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.http_stream import ASGIHTTPState, HTTPStream

from mockpipe.emulator.app import create_app
from mockpipe.emulator.config import DEFAULT_KEEP_ALIVE_TIMEOUT, ServerConfig
from mockpipe.emulator.emulator import Emulator
from mockpipe.errors import ServerError
from mockpipe.journal.journal import DEFAULT_WAIT_TIMEOUT, Journal

if TYPE_CHECKING:
    import os
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    from starlette.applications import Starlette

    from mockpipe.emulator.faults import Faults
    from mockpipe.journal.journal import Call, CallQuery, RequestQuery, RequestRecord, SourceStatus, WaitResult
    from mockpipe.people.model import People, Person
    from mockpipe.plans.model import Plan
    from mockpipe.plans.registry import PlanRegistry
    from mockpipe.types import JSONObject

log = logging.getLogger("mockpipe.emulator.server")

# Hypercorn drains open connections for this long on shutdown; SDK keep-alive connections are
# idle between calls, so a short grace keeps `stop()` fast without cutting an answer in half.
SHUTDOWN_GRACE_SECONDS = 0.05


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; with port 0 the OS picks a free port, read back with getsockname()."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def hypercorn_config(
    sock: socket.socket, *, quiet: bool = True, keep_alive_timeout: float = DEFAULT_KEEP_ALIVE_TIMEOUT
) -> HypercornConfig:
    """Hypercorn settings that serve on an already bound socket (the only owner of its descriptor);
    an idle keep-alive connection is closed after `keep_alive_timeout` seconds."""
    config = HypercornConfig()
    config.keep_alive_timeout = keep_alive_timeout
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = None
    config.errorlog = log if quiet else "-"
    config.graceful_timeout = SHUTDOWN_GRACE_SECONDS
    return config


def base_url(host: str, port: int) -> str:
    """`http://host:port`, with an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve_app(app: Starlette, config: HypercornConfig, until: Callable[[], Awaitable[object]]) -> None:
    """Serve `app` with Hypercorn until `until()` returns (a shutdown trigger is needed off the main
    thread, where Hypercorn could not install its signal handlers)."""
    hypercorn.protocol.H11Protocol = AppAnsweringH11Protocol  # type: ignore[attr-defined]  # see the class
    await serve(app, config, shutdown_trigger=until)  # type: ignore[arg-type]  # Starlette is an ASGI app


class AppAnsweringH11Protocol(H11Protocol):
    """Hypercorn's HTTP/1.1 protocol, letting the app answer two requests h11 refuses by itself.

    Installed by `serve_app` in Hypercorn's protocol module (where its `ProtocolWrapper` finds the class);
    it changes nothing for an app without the two hooks below (`mockpipe.emulator.framing` has them):

    - A body that ends early (the client half-closes, or closes, before `Content-Length` bytes or the last
      chunk): Hypercorn fed the end of the stream to h11, which raised, and answered a bare 400 before the
      app, still reading, could, unless the end came in the same read as the last bytes. When the app's
      `answers_cut_body(scope)` says it answers such a request, the end is not fed to h11: the app gets
      `http.disconnect` at once and its answer is sent, then the connection is closed.
    - A `Transfer-Encoding` h11 does not implement (anything but one `chunked`): h11 raised with a 501 hint,
      which Hypercorn answered bare. The app's `answer_unframed(method, path, headers, detail)` answers it
      instead (mockpipe: 400 with its error body, journaled on a tracking path); the connection is closed.
    """

    HEAD_LIMIT = 64 * 1024  # of a request head kept to answer it (h11 refuses heads past 16 KB)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head: list[bytes] = []  # what came while h11 waited for a request head: to name a refused one
        self._asgi_app = getattr(self.app, "app", None)  # Hypercorn's ASGIWrapper holds the app

    async def handle(self, event: Event) -> None:
        if isinstance(event, RawData):
            state = self.connection.their_state
            if state is h11.IDLE:
                if sum(map(len, self._head)) < self.HEAD_LIMIT:
                    self._head.append(event.data)
            elif not event.data and state is h11.SEND_BODY and self._app_answers_cut_body():
                await self._close_stream()  # the app reads http.disconnect and answers; h11 sends it
                return
        await super().handle(event)

    async def _create_stream(self, request: h11.Request) -> None:
        self._head.clear()
        await super()._create_stream(request)

    def _app_answers_cut_body(self) -> bool:
        stream = self.stream
        answers = getattr(self._asgi_app, "answers_cut_body", None)
        return (
            answers is not None
            and isinstance(stream, HTTPStream)
            and stream.state is ASGIHTTPState.REQUEST
            and bool(answers(stream.scope))
        )

    async def _send_error_response(self, status_code: int) -> None:
        answer = getattr(self._asgi_app, "answer_unframed", None)
        data, self._head = b"".join(self._head), []
        if answer is None or status_code != 501:  # h11's other refusals are 4xx: left as they are
            await super()._send_error_response(status_code)
            return
        # A head that h11 cannot read even without its Transfer-Encoding is still answered, as naming nothing.
        method, path, headers = _head_without_transfer_encoding(data) or ("", "", [])
        coding = b", ".join(value for name, value in headers if name == b"transfer-encoding")
        status, answer_headers, body = answer(method, path, headers, coding.decode("latin-1"))
        answer_headers = [*answer_headers, (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        await self._send_h11_event(h11.Response(status_code=status, headers=answer_headers))
        await self._send_h11_event(h11.Data(data=body))
        await self._send_h11_event(h11.EndOfMessage())


_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")


def _head_without_transfer_encoding(data: bytes) -> tuple[str, str, list[tuple[bytes, bytes]]] | None:
    """(method, path, headers) of the request head at the start of `data`, read by h11 without its
    `Transfer-Encoding` lines (which h11 refuses), or None when it is not a valid head without them."""
    end = _HEAD_END.search(data)
    if end is None:
        return None
    lines = _LINE_END.split(data[: end.start()])
    kept = [lines[0], *(line for line in lines[1:] if line.partition(b":")[0].strip().lower() != b"transfer-encoding")]
    headers = [line.partition(b":") for line in lines[1:]]
    parser = h11.Connection(h11.SERVER)
    parser.receive_data(b"\r\n".join(kept) + b"\r\n\r\n")
    try:
        request = parser.next_event()
    except h11.RemoteProtocolError:
        return None
    if not isinstance(request, h11.Request):
        return None
    path = unquote(request.target.partition(b"?")[0].decode("ascii", "replace"))
    return (
        request.method.decode("ascii").upper(),
        path,
        [(name.strip().lower(), value.strip()) for name, colon, value in headers if colon],
    )


class _ConnectionTrackingLoop(asyncio.SelectorEventLoop):
    """An event loop that can close the connections it accepted and still holds.

    A connection accepted while the server stops gets a handler task that is cancelled before it
    starts, so nothing closes its socket: it would be left to the garbage collector, which warns
    (`ResourceWarning: unclosed transport`) in whatever runs next, a test of the user's for instance.
    """

    def __init__(self) -> None:
        super().__init__()
        self._connections: weakref.WeakSet[asyncio.Transport] = weakref.WeakSet()

    def _make_socket_transport(self, *args: Any, **kwargs: Any) -> asyncio.Transport:
        transport: asyncio.Transport = super()._make_socket_transport(*args, **kwargs)  # type: ignore[misc]
        self._connections.add(transport)
        return transport

    def abort_connections(self) -> int:
        """Abort every connection still open; returns how many there were."""
        open_ones = [transport for transport in self._connections if not transport.is_closing()]
        for transport in open_ones:
            transport.abort()
        return len(open_ones)

    async def close_connections(self) -> None:
        if self.abort_connections():
            await asyncio.sleep(0)  # the sockets close in callbacks of the next turn of the loop


class MockPipeServer:
    """The emulator served on a free port of 127.0.0.1 (by default) from a daemon thread.

    Use it as a context manager, or call `start()` and `stop()`. Options are those of
    `ServerConfig` (`strict=True`, `region="eu"`, `write_keys={"k1"}`, ...), and those of
    `Emulator.build`: `store="journal.db"` (and `store_sync="full"`) keeps the journal in an SQLite
    file, `record="calls.jsonl"` appends every accepted call to a file, `forward=URL` (with
    `forward_key=`) relays every accepted call to another Data Pipelines endpoint. `stop()` ends the
    recording and the forwarding (after delivering what it can for a few seconds). `plan=` (a file or
    folder, `plan_format=` forcing its format, or a `Plan`) checks every call against a tracking plan
    (`server.plans`); a plan read from disk is reloaded when it changes.
    """

    START_TIMEOUT = 10.0

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        journal: Journal | None = None,
        store: str | os.PathLike[str] | None = None,
        store_sync: str = "normal",
        record: str | os.PathLike[str] | None = None,
        forward: str | None = None,
        forward_key: str | None = None,
        plan: str | os.PathLike[str] | Plan | None = None,
        plan_format: str | None = None,
        **options: Any,
    ) -> None:
        if config is not None and options:
            raise TypeError("pass either a ServerConfig or keyword options, not both")
        self.emulator = Emulator.build(
            config or ServerConfig(**options),
            journal=journal,
            store=store,
            store_sync=store_sync,
            record=record,
            forward=forward,
            forward_key=forward_key,
            plan=plan,
            plan_format=plan_format,
        )
        self.config = self.emulator.config
        self.journal = self.emulator.journal
        self.store = self.emulator.store  # None without `store=`
        self.host = self.config.host
        self.port = self.config.port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutdown: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.app = create_app(emulator=self.emulator, on_ready=self._ready.set)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> MockPipeServer:
        """Bind and serve; returns once requests are answered. Raises `ServerError` if already
        running, if the address cannot be bound, or if the server does not come up in `timeout`."""
        if self.is_running():
            raise ServerError("Server is already running")
        if not self.emulator.restartable:
            raise ServerError("a stopped server that recorded or forwarded cannot start again: make a new one")
        try:
            sock = listen_socket(self.config.host, self.config.port)
        except (OSError, OverflowError) as exc:  # OverflowError: a port beyond 65535
            raise ServerError(f"cannot listen on {self.config.host}:{self.config.port}: {exc}") from exc
        self.port = sock.getsockname()[1]  # the real port when 0 was asked for
        self._ready.clear()
        self._failure = None
        config = hypercorn_config(sock, keep_alive_timeout=self.config.keep_alive_timeout)
        self._thread = threading.Thread(target=self._run, args=(config,), name="mockpipe-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._failure is not None:
            failure = self._failure
            self.stop()
            raise ServerError(f"mockpipe did not start within {timeout} s") from failure
        return self

    def _run(self, config: HypercornConfig) -> None:
        try:
            with asyncio.Runner(loop_factory=_ConnectionTrackingLoop) as runner:
                runner.run(self._serve(config))
        except BaseException as exc:  # kept for start()/stop() to re-raise in the caller's thread
            self._failure = exc
            self._ready.set()

    async def _serve(self, config: HypercornConfig) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._shutdown = asyncio.Event()
        shutdown = self._shutdown

        async def until_shutdown() -> None:
            await shutdown.wait()
            if isinstance(loop, _ConnectionTrackingLoop):
                # Since Python 3.12 the listening server's wait_closed() waits for every connection: an
                # idle keep-alive one a client holds open (a `--follow`) would hold the stop up. Once the
                # grace period for answers in flight is over, the connections left are cut.
                loop.call_later(2 * SHUTDOWN_GRACE_SECONDS, loop.abort_connections)

        # A shutdown trigger is required off the main thread: hypercorn would install signal handlers.
        await serve_app(self.app, config, until_shutdown)
        if isinstance(loop, _ConnectionTrackingLoop):
            await loop.close_connections()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the thread; raises `ServerError` if it was not running."""
        thread = self._thread
        if thread is None:
            raise ServerError("Server is not running")
        if self._loop is not None and self._shutdown is not None and thread.is_alive():
            self._loop.call_soon_threadsafe(self.emulator.begin_shutdown)
            self._loop.call_soon_threadsafe(self._shutdown.set)
        thread.join(timeout)
        if thread.is_alive():
            raise ServerError(f"mockpipe did not stop within {timeout} s")
        self._thread = None
        self._loop = None
        self._shutdown = None
        for line in self.emulator.close():  # the store reopens on the next write, should the server start again
            log.info("%s", line)
        failure, self._failure = self._failure, None
        if failure is not None and not isinstance(failure, asyncio.CancelledError):
            raise ServerError("mockpipe's server thread failed") from failure

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> MockPipeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._thread is not None:
            self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<MockPipeServer {self.url} {state}>"

    # -- addresses -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL SDKs take as their host, e.g. `http://127.0.0.1:54321`."""
        return base_url(self.host, self.port)

    def url_for(self, path: str) -> str:
        return self.url + "/" + path.lstrip("/")

    # -- the journal ---------------------------------------------------------------------------

    def records(self, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The journal's records of the calls received, oldest first, filtered by `write_key`, `type`,
        `event`, `user_id`, ... (see `CallQuery`)."""
        return self.journal.calls(query, **filters)

    def calls(self, query: CallQuery | None = None, /, **filters: Any) -> list[Call]:
        """The same as `records()`."""
        return self.journal.calls(query, **filters)

    def payloads(self, query: CallQuery | None = None, /, **filters: Any) -> list[JSONObject]:
        """The enriched payloads of the calls received (plain dicts), oldest first; filters as `records()`."""
        return [call.payload for call in self.journal.calls(query, **filters)]

    def wait_for(
        self,
        count: int = 1,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        query: CallQuery | None = None,
        **filters: Any,
    ) -> WaitResult:
        """Block until `count` matching calls have arrived or `timeout` passes (see `WaitResult`)."""
        return self.journal.wait_for(count, timeout, query, **filters)

    def requests(self, query: RequestQuery | None = None) -> list[RequestRecord]:
        return self.journal.requests(query)

    def source(self, write_key: str) -> SourceStatus:
        return self.journal.source(write_key)

    def clear(self, write_key: str | None = None) -> int:
        return self.journal.clear(write_key)

    @property
    def faults(self) -> Faults:
        """The fault rules of the tracking endpoints: `server.faults.fail_next(2, status=429, retry_after=1)`,
        `.drop_next()`, `.delay(ms)`, `.clear()` (see `mockpipe.emulator.faults`)."""
        return self.emulator.faults

    @property
    def plans(self) -> PlanRegistry:
        """The tracking plans in force (`server.plans.set(plan, write_key=...)`, `.plan_for(key)`) and
        what arrived against them (`.coverage(write_key)`): see `mockpipe.plans.registry`."""
        return self.emulator.plans

    # -- people and objects --------------------------------------------------------------------

    @property
    def people(self) -> People:
        """People and objects as the service would see them after the calls so far (`mockpipe.people.model`)."""
        return self.emulator.people

    def person(self, person_id: str, *, write_key: str | None = None) -> Person | None:
        """The person with this userId, anonymousId, aliased id or email, or None. Without
        `write_key`, the only write key that knows the id; raises `AmbiguousIdError` when several do."""
        return self.people.person(person_id, write_key=write_key)
