"""Regenerate docs/ui.png: a server with a few calls, and the web UI in headless Chromium.

Run: .venv/bin/python docs/make_ui_screenshot.py docs/ui.png (needs /usr/bin/chromium and playwright).
"""

from __future__ import annotations

import sys

import httpx
from playwright.sync_api import sync_playwright

from mockpipe import MockPipeServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADA = "ada@example.com"
CALLS = [
    ("page", {"anonymousId": "anon-3f2a", "name": "Pricing", "properties": {"path": "/pricing"}}),
    ("track", {"anonymousId": "anon-3f2a", "event": "Plan Selected", "properties": {"plan": "growth"}}),
    (
        "identify",
        {"anonymousId": "anon-3f2a", "userId": ADA, "traits": {"email": ADA, "name": "Ada Lovelace", "plan": "growth"}},
    ),
    (
        "group",
        {
            "userId": ADA,
            "groupId": "acme",
            "traits": {"name": "Acme Ltd", "object_type_id": "1", "relationshipAttributes": {"role": "admin"}},
        },
    ),
    ("track", {"userId": ADA, "event": "Order Completed", "properties": {"total": 129.5, "currency": "EUR"}}),
    ("screen", {"userId": ADA, "name": "Checkout", "context": {"device": {"type": "ios"}}}),
    (
        "track",
        {
            "userId": ADA,
            "event": "Device Created or Updated",
            "context": {"device": {"token": "fcm-81c0", "type": "android"}},
        },
    ),
    ("identify", {"userId": "grace", "traits": {"email": 42, "createdAt": "last tuesday"}}),  # two violations
    ("track", {"userId": "grace", "properties": {"step": 2}}),  # no event
]


def main(out: str) -> None:
    with MockPipeServer() as server, sync_playwright() as playwright:
        http = httpx.Client(base_url=server.url, auth=("pk_demo", ""))
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 860})
        page.goto(server.url_for("/mockpipe/ui"))
        page.wait_for_selector("body[data-ready='1']")
        for call_type, body in CALLS:
            http.post(f"/v1/{call_type}", json=body)
        http.post("/v1/track", content=b'{"userId": "grace", "event": ', headers={"Content-Type": "application/json"})
        page.wait_for_function(f"document.querySelectorAll('#calls tbody tr').length === {len(CALLS)}")
        page.locator("#calls tbody tr").nth(1).click()  # the identify with two violations
        page.wait_for_selector("#detail .line.violation")
        page.screenshot(path=out)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/ui.png")
