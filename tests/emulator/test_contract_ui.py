"""The Contract view of the web UI in headless Chromium: events, properties and types, per write key, as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.conftest import Client
from tests.emulator.test_ui import XSS_EVENTS, browser, page  # noqa: F401  (the fixtures; skips without Chromium)

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_the_contract_view_shows_events_properties_and_types(page: Page, client: Client) -> None:  # noqa: F811
    from playwright.sync_api import expect

    client.post(
        "/v1/track", {"userId": "u", "event": "Order Completed", "properties": {"total": 1, "coupon": "X"}}, key="k1"
    )
    client.post("/v1/track", {"userId": "u", "event": "Order Completed", "properties": {"total": 2}}, key="k1")
    client.post("/v1/identify", {"userId": "u", "traits": {"email": "a@example.com"}}, key="k2")
    page.click("button.tab[data-tab='contract']")
    expect(page.locator("#view-contract")).to_be_visible()
    expect(page.locator("#view-calls")).to_be_hidden()
    events = page.locator("#contract-events section.contract-event")
    expect(events).to_have_count(2)
    order = page.locator("section[data-event='Order Completed'] tbody tr")
    expect(order).to_have_count(2)
    expect(order.first.locator("td")).to_have_text(["coupon", "string", "", "optional", "1"])
    expect(order.last.locator("td")).to_have_text(["total", "integer", "", "always", "2"])
    expect(page.locator("#contract-summary")).to_have_text("2 event(s) from 3 call(s) of every write key.")
    page.fill("#f-key", "k2")
    expect(events).to_have_count(1)
    expect(page.locator("section[data-event='identify'] td").nth(2)).to_have_text("email")
    page.click("button.tab[data-tab='calls']")
    expect(page.locator("#view-contract")).to_be_hidden()


def test_payload_names_in_the_contract_are_text(page: Page, client: Client) -> None:  # noqa: F811
    from playwright.sync_api import expect

    for event in XSS_EVENTS:
        client.post("/v1/track", {"userId": "u", "event": event, "properties": {event: event}}, key="k")
    page.click("button.tab[data-tab='contract']")
    expect(page.locator("#contract-events section.contract-event")).to_have_count(2)
    expect(page.locator("#contract-events h3 > span:not(.calls)")).to_have_text(sorted(XSS_EVENTS))
    paths = [event.replace(".", "\\.") for event in sorted(XSS_EVENTS)]  # a dot in a name is escaped in a path
    expect(page.locator("#contract-events tbody td:first-child")).to_have_text(paths)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#contract-events img, #contract-events script").count() == 0
