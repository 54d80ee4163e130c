"""The settings the browser bundles fetch before they send anything (`GET {cdnURL}/v1/projects/{key}/settings`).

Each bundle fails when the settings name more than one integration, so the plain path serves the
Customer.io entry and the same settings under `/segment` serve Segment's (analytics-next).
`apiHost` points back at this server, as the client reached it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from mockpipe.emulator.responses import error_response

if TYPE_CHECKING:
    from starlette.requests import Request

    from mockpipe.emulator.config import ServerConfig

CUSTOMERIO_INTEGRATION = "Customer.io Data Pipelines"
SEGMENT_INTEGRATION = "Segment.io"


def project_settings(write_key: str, api_host: str, protocol: str, integration: str) -> dict[str, Any]:
    """The settings document, as the real CDN serves it, with metrics off (the bundle would post to /v1/m)."""
    return {
        "integrations": {
            integration: {
                "apiKey": write_key,
                "apiHost": f"{api_host}/v1",
                "protocol": protocol,
                "addBundledMetadata": True,
                "unbundledIntegrations": [],
                "maybeBundledConfigIds": {},
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }


def settings_endpoint(config: ServerConfig, integration: str) -> Any:
    async def settings(request: Request) -> JSONResponse:
        write_key = request.path_params["write_key"]
        if not config.accepts_key(write_key):
            return error_response("auth.unknown_key", f"no project with write key {write_key!r}", 404)
        host = request.headers.get("host") or f"{config.host}:{config.port}"
        return JSONResponse(project_settings(write_key, host, request.url.scheme, integration))

    return settings
