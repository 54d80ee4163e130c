"""The emulator as a Starlette app: the routes of one `Emulator` (tracking endpoints, browser settings, the
APIs under `/mockpipe/`, the web UI), the guard of the inspection API, CORS, and a fast lane for the
tracking POSTs (which the guard never sees: they are open to every origin)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockpipe.emulator.browser_settings import CUSTOMERIO_INTEGRATION, SEGMENT_INTEGRATION, settings_endpoint
from mockpipe.emulator.contract_api import ContractAPI
from mockpipe.emulator.cors import WILDCARD, CORSMiddleware, allow_origin
from mockpipe.emulator.draining import caught_up
from mockpipe.emulator.emulator import Emulator
from mockpipe.emulator.expect_api import ExpectAPI
from mockpipe.emulator.fault_delivery import RAW_SEND
from mockpipe.emulator.faults_api import FaultsAPI
from mockpipe.emulator.framing import FramingAnswers
from mockpipe.emulator.guard import InspectionGuard
from mockpipe.emulator.ingest import TRACKING_PATHS, Ingest
from mockpipe.emulator.inspection import Inspection
from mockpipe.emulator.origins import HostPolicy
from mockpipe.emulator.people_api import PeopleAPI
from mockpipe.emulator.plans_api import PlansAPI, watch_plans
from mockpipe.emulator.responses import error_response, not_found
from mockpipe.emulator.settle import SettleAPI
from mockpipe.emulator.webui import WebUI

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from starlette.requests import Request
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mockpipe.emulator.config import ServerConfig
    from mockpipe.journal.journal import Journal
    from mockpipe.plans.model import Plan


def create_app(
    config: ServerConfig | None = None,
    journal: Journal | None = None,
    *,
    emulator: Emulator | None = None,
    on_ready: Callable[[], None] | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    plan: str | os.PathLike[str] | Plan | None = None,
    plan_format: str | None = None,
) -> EmulatorApp:
    """Serve an emulator: `emulator`, or one built from `config`, `journal` and `plan` (see
    `Emulator.build` for a store, a recording or forwarding, and the tracking plan). `on_ready` runs
    once the app has started (the lifespan's startup)."""
    if emulator is None:
        emulator = Emulator.build(config, journal=journal, plan=plan, plan_format=plan_format)
    elif config is not None or journal is not None or plan is not None:
        raise TypeError("pass either an emulator or a config, journal and plan, not both")
    config = emulator.config
    ingest = Ingest(config, emulator.journal, emulator.faults, emulator.plans)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = None
        if emulator.plan_reload is not None:  # a plan read from disk is reloaded when it changes
            watcher = asyncio.create_task(watch_plans(emulator.plans, emulator.plan_reload))
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    routes: list[BaseRoute] = [
        # First: the hot path should not be matched against every other route.
        Route("/v1/{endpoint}", ingest),
        Route("/v1/projects/{write_key}/settings", settings_endpoint(config, CUSTOMERIO_INTEGRATION), methods=["GET"]),
        Route(
            "/segment/v1/projects/{write_key}/settings", settings_endpoint(config, SEGMENT_INTEGRATION), methods=["GET"]
        ),
        *Inspection(config, emulator.journal).routes(),
        *ExpectAPI(emulator.journal).routes(),
        *SettleAPI(ingest.in_flight, emulator.journal).routes(),
        *FaultsAPI(emulator.faults).routes(),
        *PeopleAPI(emulator.people).routes(),
        *PlansAPI(emulator.plans).routes(),
        *WebUI(emulator.live).routes(),
        *ContractAPI(emulator.journal, emulator.plans.plan_for).routes(),
        *extra_routes,
    ]
    app = EmulatorApp(
        emulator,
        ingest,
        routes=routes,
        # The guard refuses foreign hosts and origins on everything but the open paths, which CORS opens to all.
        middleware=[
            Middleware(InspectionGuard, policy=HostPolicy(config.host, config.allow_hosts)),
            Middleware(CORSMiddleware),
        ],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # `/v1/track/` is not an endpoint: a 404, not a redirect
    return app


class TrackingFastLane:
    """The emulator app's entry (a mixin of `mockpipe.emulator.app.EmulatorApp`, before Starlette):
    tracking POSTs go straight to `Ingest`, past the middleware stack and the router (about 35 µs a
    request, a tenth of the whole), with their CORS headers; everything else goes on to Starlette.

    It also keeps the server's own `send` in the scope (`extensions[RAW_SEND]`): every middleware wraps
    `send`, and a `close` fault needs the server's, to reach the connection under it.
    """

    ingest: Ingest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            extensions = scope.get("extensions")
            if extensions is None:
                extensions = scope["extensions"] = {}
            extensions[RAW_SEND] = send
            if scope["method"] == "POST" and scope["path"] in TRACKING_PATHS:
                await self.ingest.respond(scope, receive, send, open_cors_headers(scope))
                return
            backlog = self.ingest.journal.backlog
            if not backlog.caught_up and scope["path"].startswith("/mockpipe"):
                await caught_up(backlog)  # the inspection API and the UI read the journal: processed first
        app: ASGIApp = super().__call__  # type: ignore[misc]  # Starlette's, next in the app's MRO
        await app(scope, receive, send)


# -- CORS of the open paths (tracking, settings): browser SDKs post from pages on any origin --------------


def open_cors_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The CORS headers of the answer to a request to an open path: its origin echoed, or `*`."""
    for name, value in scope["headers"]:
        if name == b"origin":
            return allow_origin(value)
    return WILDCARD


class EmulatorApp(TrackingFastLane, FramingAnswers, Starlette):
    """Starlette with the tracking endpoints' fast lane in front (`TrackingFastLane`), serving one `Emulator`;
    `FramingAnswers` answers what the HTTP layer cannot frame."""

    def __init__(self, emulator: Emulator, ingest: Ingest, **options: Any) -> None:
        super().__init__(**options)
        self.emulator = emulator  # what it serves: journal, faults, people, ...
        self.ingest = ingest


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return not_found(f"nothing at {request.url.path}")


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return error_response("method_not_allowed", f"{request.method} is not allowed on {request.url.path}", 405)
