"""The fixed scenario every real SDK sends in the end-to-end tests, and how to run each SDK.

Eight published clients: three Python SDKs (in this process), three Node SDKs (`node/driver.mjs` in a
child process) and two browser bundles (`browser/page.html` in headless Chromium). Each sends the same
six calls (identify, track, page, screen, group, alias) with the same ids, traits, properties and
track context, so one set of expectations (`check_scenario`) covers them all, give or take what each
SDK adds by itself. `scripts/record_sdks.py` runs the same scenario to write `recordings/<sdk>.jsonl`.

Runners return the `time.perf_counter()` at which the SDK's flush returned: the tests measure from
there how soon the calls can be found in the journal.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import time
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.paths import RECORDINGS, SDK_DIR

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mockpipe import Call, MockPipeServer

    # The type of pytest's `record_property` fixture, which pytest does not export.
    RecordProperty = Callable[[str, object], None]

HERE = SDK_DIR
NODE_DIR = HERE / "node"
NODE_DRIVER = NODE_DIR / "driver.mjs"

USER_ID = "user-123"
ANON_ID = "anon-abc"
TRAITS = {"email": "jane@example.com", "name": "Jane Doe", "plan": "pro", "logins": 7}
ORDER = {"order_id": "o-1", "revenue": 99.5, "currency": "USD", "products": [{"sku": "sku-1", "qty": 2}]}
# The track call's own context: every SDK merges it into the context it builds.
TRACK_CONTEXT = {"campaign": {"name": "spring-sale", "source": "newsletter"}, "ip": "203.0.113.7"}
PAGE = {"url": "https://example.com/pricing", "title": "Pricing", "path": "/pricing"}
SCREEN = {"tab": "feed"}
GROUP_ID = "acme-inc"
GROUP_TRAITS = {"name": "Acme Inc", "employees": 42, "object_type_id": "1"}
CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")


@dataclass(frozen=True)
class Sdk:
    """One published client: how it runs, where it comes from, and its recording."""

    name: str  # also the recording's file name
    kind: str  # "python", "node" or "browser"
    package: str  # on PyPI or npm
    driver_name: str  # the Python module, the name driver.mjs knows, or page.html's `lib`

    @property
    def recording(self) -> Path:
        return RECORDINGS / f"{self.name}.jsonl"

    def version(self) -> str | None:
        """The installed version, or None when the package is not installed."""
        if self.kind == "python":
            try:
                return importlib.metadata.version(self.package)
            except importlib.metadata.PackageNotFoundError:
                return None
        manifest = NODE_DIR / "node_modules" / self.package / "package.json"
        return json.loads(manifest.read_text())["version"] if manifest.exists() else None


SDKS = {
    sdk.name: sdk
    for sdk in (
        Sdk("customerio-cdp-analytics", "python", "customerio-cdp-analytics", "customerio.analytics"),
        Sdk("segment-analytics-python", "python", "segment-analytics-python", "segment.analytics"),
        Sdk("rudder-sdk-python", "python", "rudder-sdk-python", "rudderstack.analytics"),
        Sdk("customerio-cdp-analytics-node", "node", "@customerio/cdp-analytics-node", "customerio-node"),
        Sdk("segment-analytics-node", "node", "@segment/analytics-node", "segment-node"),
        Sdk("analytics-node-legacy", "node", "analytics-node", "analytics-node-legacy"),
        Sdk("customerio-cdp-analytics-browser", "browser", "@customerio/cdp-analytics-browser", "cio"),
        Sdk("segment-analytics-next", "browser", "@segment/analytics-next", "segment"),
    )
}
PYTHON_SDKS = [name for name, sdk in SDKS.items() if sdk.kind == "python"]
NODE_SDKS = [name for name, sdk in SDKS.items() if sdk.kind == "node"]
BROWSER_SDKS = [name for name, sdk in SDKS.items() if sdk.kind == "browser"]


# -- Python ------------------------------------------------------------------------------------


@contextlib.contextmanager
def python_client(
    name: str, url: str, write_key: str, *, gzip: bool | None = None, max_retries: int = 3
) -> Iterator[Any]:
    """A Python SDK's client (with its background consumer) sending to `url`, shut down on exit.

    Raises AssertionError on exit if the SDK reported a delivery failure (its `on_error`).
    """
    module = importlib.import_module(SDKS[name].driver_name)
    errors: list[str] = []
    options: dict[str, Any] = {
        "host": url,
        "max_retries": max_retries,
        "upload_interval": 0.05,
        "on_error": lambda error, batch: errors.append(f"{error!r} ({len(batch)} calls)"),
    }
    if gzip is not None:
        options["gzip"] = gzip
    client = module.Client(write_key, **options)
    try:
        yield client
    finally:
        client.shutdown()
    if errors:
        raise AssertionError(f"{name} reported delivery failures: {'; '.join(errors)}")


def send_python(client: Any) -> float:
    """Send the scenario through a Python SDK's client; returns when its flush returned."""
    # The SDKs add their library to the context they are given, in place: hand them copies.
    client.identify(USER_ID, deepcopy(TRAITS), anonymous_id=ANON_ID)
    client.track(USER_ID, "Order Completed", deepcopy(ORDER), context=deepcopy(TRACK_CONTEXT))
    client.page(USER_ID, "Docs", "Pricing", deepcopy(PAGE))
    client.screen(USER_ID, name="Home", properties=deepcopy(SCREEN))
    client.group(USER_ID, GROUP_ID, deepcopy(GROUP_TRAITS))
    client.alias(ANON_ID, USER_ID)
    client.flush()  # returns once the consumer's request (and its retries) is over
    return time.perf_counter()


# -- Node --------------------------------------------------------------------------------------


def node_missing(name: str) -> str | None:
    """Why a Node SDK cannot run here (for pytest.skip), or None."""
    if shutil.which("node") is None:
        return "node is not on PATH (install Node 20; .ci/install-sdks.sh installs the packages)"
    if SDKS[name].version() is None:
        return f"npm package {SDKS[name].package} is not in tests/sdk/node/node_modules (run .ci/install-sdks.sh)"
    return None


def send_node(name: str, url: str, write_key: str, *, max_retries: int | None = None, timeout: float = 60) -> float:
    """Send the scenario through a Node SDK (driver.mjs); returns when the driver exited after its flush.

    Raises AssertionError when the driver fails (a delivery failure, an SDK error).
    """
    env = dict(os.environ)
    if max_retries is not None:
        env["MAX_RETRIES"] = str(max_retries)
    done = subprocess.run(
        ["node", str(NODE_DRIVER), SDKS[name].driver_name, url, write_key],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=NODE_DIR,
        check=False,
    )
    flushed = time.perf_counter()
    if done.returncode != 0:
        raise AssertionError(f"driver.mjs {name} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["sent"] == list(CALL_TYPES), report
    return flushed


# -- browsers ----------------------------------------------------------------------------------


def cdn_url(name: str, api_url: str) -> str:
    """The cdnURL a bundle loads its settings from: Segment's under mockpipe's fixed `/segment` prefix."""
    return api_url + ("/segment" if SDKS[name].driver_name == "segment" else "")


def send_browser(name: str, pages_url: str, api_url: str, write_key: str) -> float:
    """Load page.html with a bundle in headless Chromium; returns when the page said every call was sent.

    The page is served from `pages_url` (127.0.0.1) and `api_url` should name another origin
    (localhost), so that CORS is exercised. Raises AssertionError when the page reports an error.
    """
    from tests.sdk.browser.drive import page_url, run_browser

    state = run_browser(page_url(pages_url, SDKS[name].driver_name, cdn_url(name, api_url), write_key))
    flushed = time.perf_counter()
    if not state["done"]:
        raise AssertionError(f"{name} in Chromium: {state['error']}\n" + "\n".join(state["console"]))
    assert state["sent"] == list(CALL_TYPES), state
    return flushed


def flush_to_journal(server: MockPipeServer, write_key: str, flushed: float, count: int = len(CALL_TYPES)) -> float:
    """Seconds from the SDK's flush returning (`flushed`) until its calls were found in the journal.

    mockpipe journals a request before answering it, so the calls must all be there at the first look,
    with no wait: fails otherwise.
    """
    found = server.calls(write_key=write_key)
    seconds = time.perf_counter() - flushed
    assert len(found) == count, f"{len(found)} of {count} calls in the journal when the flush returned"
    return seconds


# -- what must arrive --------------------------------------------------------------------------


def by_type(calls: list[Call]) -> dict[str, dict[str, Any]]:
    """The payload of each call type; fails if a type is missing or came twice."""
    types = [call.type for call in calls]
    assert sorted(types) == sorted(CALL_TYPES), f"expected one call of each type, got {types}"
    return {call.type: call.payload for call in calls}


def check_scenario(name: str, calls: list[Call]) -> None:
    """Assert that the scenario arrived whole from SDK `name`: every call valid and accepted, of the right
    type, with the ids, event and names, traits, properties and context that were sent."""
    sdk = SDKS[name]
    for call in calls:
        assert call.valid and call.accepted, f"{name} {call.type}: {[v.message for v in call.violations]}"
        assert call.errors == ()
    payload = by_type(calls)
    for kind, sent in payload.items():
        assert sent["type"] == kind
        assert sent["messageId"] and sent["timestamp"], sent
        if kind != "alias":
            assert sent["userId"] == USER_ID, (kind, sent)

    identify = payload["identify"]
    # rudder-sdk-python has no top-level traits: it puts them in context.traits.
    traits = identify["context"]["traits"] if name == "rudder-sdk-python" else identify["traits"]
    assert _contains(traits, TRAITS), traits
    assert identify["anonymousId"] == ANON_ID

    track = payload["track"]
    assert track["event"] == "Order Completed"
    assert track["properties"] == ORDER
    assert _contains(track["context"], TRACK_CONTEXT), track["context"]
    assert track["context"]["library"]["name"], track["context"]

    page = payload["page"]
    assert page["name"] == "Pricing"
    assert _contains(page["properties"], PAGE), page["properties"]
    if sdk.kind == "python":
        assert page["category"] == "Docs"
    else:  # the JS clients copy the category into the properties (the browsers' page(category, name))
        assert page["properties"].get("category", page.get("category")) == "Docs", page

    screen = payload["screen"]
    assert screen["name"] == "Home"
    assert _contains(screen["properties"], SCREEN), screen["properties"]

    group = payload["group"]
    assert group["groupId"] == GROUP_ID
    assert group["traits"] == GROUP_TRAITS

    alias = payload["alias"]
    assert (alias["userId"], alias["previousId"]) == (USER_ID, ANON_ID)


def _contains(actual: Any, expected: dict[str, Any]) -> bool:
    return isinstance(actual, dict) and all(actual.get(key) == value for key, value in expected.items())
