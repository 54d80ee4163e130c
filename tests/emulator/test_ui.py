"""The web UI in headless Debian Chromium, driven by Playwright (its Python package only).

Skipped, with the reason shown, when /usr/bin/chromium or playwright is missing
(`.ci/install-sdks.sh` installs both).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Client

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from mockpipe import MockPipeServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 5000

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (run .ci/install-sdks.sh)", allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("playwright (the Python package) is not installed: pip install playwright", allow_module_level=True)

XSS_EVENTS = ["<img src=x onerror=window.__pwned=1>", "<script>window.__pwned=1</script>"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: MockPipeServer) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.goto(server.url_for("/mockpipe/ui"))
    expect(opened.locator("body[data-ready='1']")).to_have_count(1)  # the feed's hello has arrived
    expect(opened.locator("#status")).to_have_text("live")
    yield opened
    context.close()
    assert errors == []  # no script error on the page


def rows(page: Page) -> Any:
    return page.locator("#calls tbody tr")


def test_root_redirects_the_browser(browser: Browser, server: MockPipeServer) -> None:
    context = browser.new_context()
    try:
        opened = context.new_page()
        opened.goto(server.url)
        assert opened.url == server.url_for("/mockpipe/ui")
        expect(opened.locator("h1")).to_have_text("mockpipe")
    finally:
        context.close()


def test_a_call_appears_without_reload(page: Page, client: Client) -> None:
    expect(rows(page)).to_have_count(0)
    page.evaluate("window.__marker = 'same page'")
    client.post("/v1/track", {"userId": "u1", "event": "Order Completed"})
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("td.name")).to_have_text("Order Completed")
    expect(page.locator("#counts [data-type='track'] .count-n")).to_have_text("1")
    assert page.evaluate("window.__marker") == "same page"  # not reloaded


def test_filters(page: Page, client: Client) -> None:
    client.post(
        "/v1/batch",
        {
            "batch": [
                {"type": "identify", "userId": "ann", "traits": {"name": "Ann"}},
                {"type": "track", "userId": "ann", "event": "Signed Up"},
                {"type": "track", "userId": "bob", "event": "Logged In"},
                {"type": "track", "userId": "bob"},  # invalid: no event
            ]
        },
        key="key-a",
    )
    client.post("/v1/page", {"userId": "cy", "name": "Home"}, key="key-b")
    expect(rows(page)).to_have_count(5)

    page.select_option("#f-type", "track")
    expect(rows(page)).to_have_count(3)
    page.fill("#f-name", "signed")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("td.user")).to_have_text("ann")
    page.fill("#f-name", "")
    page.fill("#f-user", "bob")
    expect(rows(page)).to_have_count(2)
    page.select_option("#f-valid", "false")
    expect(rows(page)).to_have_count(1)
    page.select_option("#f-valid", "")
    page.fill("#f-user", "")
    page.select_option("#f-type", "")
    page.fill("#f-key", "key-b")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#counts [data-type='page'] .count-n")).to_have_text("1")
    expect(page.locator("#counts [data-type='track'] .count-n")).to_have_text("0")
    # New calls honour the filters too.
    client.post("/v1/page", {"userId": "cy", "name": "Pricing"}, key="key-b")
    client.post("/v1/page", {"userId": "cy", "name": "Pricing"}, key="key-a")
    expect(rows(page)).to_have_count(2)


def test_payload_values_are_text_and_run_nothing(page: Page, client: Client) -> None:
    for event in XSS_EVENTS:
        client.post("/v1/track", {"userId": "<b>u</b>", "event": event, "properties": {event: event}})
    expect(rows(page)).to_have_count(2)
    names = page.locator("#calls td.name")
    expect(names).to_have_text(list(reversed(XSS_EVENTS)))  # newest first, shown as typed
    rows(page).first.click()
    expect(page.locator("#detail pre.json")).to_contain_text(XSS_EVENTS[1])
    rows(page).last.click()
    expect(page.locator("#detail pre.json")).to_contain_text(XSS_EVENTS[0])
    page.click("button.tab[data-tab='people']")
    expect(page.locator("#people tbody tr")).to_have_count(1)
    page.locator("#people tbody tr").click()
    expect(page.locator("#detail h2")).to_have_text("<b>u</b>")
    expect(page.locator("#detail ul.events li")).to_have_count(2)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img, main script, main b").count() == 0


def test_detail_highlights_violations_at_their_paths(page: Page, client: Client) -> None:
    client.post("/v1/identify", {"userId": "u1", "traits": {"email": 42, "createdAt": "yesterday"}})
    client.post("/v1/track", {"userId": "u1"})  # the event is missing altogether
    expect(rows(page)).to_have_count(2)
    rows(page).last.click()  # the identify
    marked = page.locator("#detail .line.violation")
    expect(page.locator("#detail .line.violation[data-pointer='/traits/email']")).to_have_count(1)
    expect(page.locator("#detail .line.violation[data-pointer='/traits/createdAt']")).to_have_count(1)
    expect(page.locator("#detail ul.violations li")).to_have_count(marked.count())
    rows(page).first.click()  # the track: its missing /event is marked on the call itself
    expect(page.locator("#detail .line.violation[data-pointer='']")).to_contain_text("/event")


def test_rejected_requests_and_clear(page: Page, client: Client, server: MockPipeServer) -> None:
    client.post("/v1/track", content=b"{oops")
    client.post("/v1/track", {"userId": "u1", "event": "Kept"})
    expect(page.locator("#rejected-count")).to_have_text("1")
    page.click("button.tab[data-tab='rejected']")
    expect(page.locator("#rejected tbody tr td.reason")).to_have_text("request.json.invalid")
    page.locator("#rejected tbody tr").click()
    expect(page.locator("#detail pre.json")).to_have_text("{oops")

    page.click("button.tab[data-tab='calls']")
    expect(rows(page)).to_have_count(1)
    # Clearing asks first (with --store it empties the file): Cancel and Escape keep everything.
    page.click("#clear")
    expect(page.locator("#clear-question")).to_have_text(
        "Delete every call and request, of every write key? This cannot be undone."
    )
    page.click("#clear-no")
    expect(page.locator("#clear-confirm")).to_be_hidden()
    page.click("#clear")
    page.keyboard.press("Escape")
    expect(page.locator("#clear")).to_be_visible()
    expect(rows(page)).to_have_count(1)
    assert len(server.journal) == 1
    page.click("#clear")
    page.click("#clear-yes")
    expect(rows(page)).to_have_count(0)
    expect(page.locator("#rejected-count")).to_have_text("0")
    assert len(server.journal) == 0


def test_clearing_one_key_names_it(page: Page, client: Client, server: MockPipeServer) -> None:
    client.post("/v1/track", {"userId": "u1", "event": "Gone"}, key="key-a")
    client.post("/v1/track", {"userId": "u1", "event": "Kept"}, key="key-b")
    expect(rows(page)).to_have_count(2)
    page.fill("#f-key", "key-a")
    expect(page.locator("#clear")).to_have_text("Clear key key-a")
    page.click("#clear")
    expect(page.locator("#clear-question")).to_contain_text("of write key key-a?")
    page.click("#clear-yes")
    expect(page.locator("#detail")).to_contain_text("Cleared write key key-a.")  # the DELETE has been answered
    page.fill("#f-key", "")
    expect(rows(page)).to_have_count(1)
    assert [call.event for call in server.calls()] == ["Kept"]


def test_every_column_fits_at_1280_px_with_the_detail_open(page: Page, client: Client) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    long_user = "ada.lovelace@analytical-engine.example.com"
    for _ in range(2):  # the second is a resend: valid + duplicate badges
        client.post(
            "/v1/track",
            {
                "userId": long_user,
                "event": "Checkout Step Completed With A Long Name",
                "messageId": "m-1",
                "properties": {"revenue": "12"},
            },
            key="mockpipe_0123456789abcdef",
        )
    expect(rows(page)).to_have_count(2)
    rows(page).first.click()
    expect(page.locator("#detail h2")).to_contain_text("track #2")
    view = page.locator("#view-calls")
    assert view.evaluate("v => v.scrollWidth <= v.clientWidth")  # nothing hidden to the right
    view_box = view.bounding_box()
    assert view_box is not None
    right_edge = view_box["x"] + view_box["width"] + 0.5
    expect(rows(page).first.locator("td.status-cell")).to_have_text("validduplicate")
    shown = [page.locator("#calls thead th").last, *rows(page).first.locator("td.status-cell .badge").all()]
    for element in shown:
        box = element.bounding_box()
        assert box is not None and box["x"] + box["width"] <= right_edge
    # A valid call has no violations: the detail panel shows no stray "null".
    assert "null" not in (page.locator("#detail").inner_text().replace('"null"', ""))


def test_people_view(page: Page, client: Client) -> None:
    client.post("/v1/identify", {"anonymousId": "a1", "userId": "u1", "traits": {"plan": "pro"}})
    client.post(
        "/v1/group",
        {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme", "relationshipAttributes": {"role": "admin"}}},
    )
    page.click("button.tab[data-tab='people']")
    person = page.locator("#people tbody tr")
    expect(person).to_have_count(1)
    expect(person.locator("td.user")).to_have_text("a1")
    person.click()
    expect(page.locator("#detail h2")).to_have_text("u1")
    page.locator("#detail ul.objects a").click()
    expect(page.locator("#detail h2")).to_contain_text("object acme")
    expect(page.locator("#detail ul.objects")).to_contain_text('{"role":"admin"}')
    # The list follows new calls while it is shown.
    client.post("/v1/identify", {"userId": "u2"})
    expect(person).to_have_count(2)


def test_people_of_several_write_keys_link_to_their_own(page: Page, client: Client) -> None:
    # Issue 13: every person was listed under the last write key, and the link of each row answered 404.
    for key in ("key-a", "key-b", "key-c"):
        client.post("/v1/identify", {"userId": f"user-{key}"}, key=key)
        client.post("/v1/group", {"userId": f"user-{key}", "groupId": f"org-{key}"}, key=key)
    page.click("button.tab[data-tab='people']")
    people = page.locator("#people tbody tr")
    expect(people).to_have_count(3)
    for number, key in enumerate(("key-a", "key-b", "key-c")):
        expect(people.nth(number).locator("td.key")).to_have_text(key)
        people.nth(number).click()
        expect(page.locator("#detail h2")).to_have_text(f"user-{key}")
        page.locator("#detail ul.objects a").click()
        expect(page.locator("#detail h2")).to_contain_text(f"object org-{key}")


def test_people_come_in_pages_with_a_more_button(page: Page, client: Client) -> None:
    client.post("/v1/batch", {"batch": [{"type": "identify", "userId": f"u{i}"} for i in range(250)]})
    page.click("button.tab[data-tab='people']")
    people = page.locator("#people tbody tr")
    expect(people).to_have_count(100)  # one page, not all of them
    expect(page.locator("#people-shown")).to_have_text("100 of 250 people.")
    page.click("#people-more")
    expect(people).to_have_count(200)
    expect(page.locator("#people-shown")).to_have_text("200 of 250 people.")  # the page is in: click again
    page.click("#people-more")
    expect(people).to_have_count(250)
    expect(page.locator("#people-more-bar")).to_be_hidden()
    # The user filter is the server's: it finds people beyond the pages loaded.
    page.fill("#f-user", "u24")
    expect(people).to_have_count(11)
    page.fill("#f-user", "u249")
    expect(people).to_have_count(1)
    expect(people.locator("td").nth(1)).to_have_text("u249")


def test_identify_and_group_rows_show_a_name(page: Page, client: Client) -> None:
    client.post("/v1/identify", {"userId": "u1", "traits": {"name": "<b>Ann</b>", "email": "ann@example.com"}})
    client.post("/v1/identify", {"userId": "u2", "traits": {"email": "bo@example.com"}})
    client.post("/v1/group", {"userId": "u1", "groupId": "acme-1", "traits": {"name": "Acme"}})
    client.post("/v1/group", {"userId": "u1", "groupId": "globex-2"})
    expect(rows(page)).to_have_count(4)
    names = rows(page).locator("td.name")
    expect(names).to_have_text(["globex-2", "Acme", "bo@example.com", "<b>Ann</b>"])  # newest first, as text
    assert page.locator("#calls td.name b").count() == 0
    page.fill("#f-name", "acme")  # the name filter finds them too
    expect(rows(page)).to_have_count(1)


def test_a_person_view_lists_page_and_screen_views_from_before_and_after_identify(page: Page, client: Client) -> None:
    client.post("/v1/page", {"anonymousId": "a1", "name": "Home"})
    client.post("/v1/identify", {"anonymousId": "a1", "userId": "u1"})
    client.post("/v1/screen", {"userId": "u1", "name": "Settings"})
    page.click("button.tab[data-tab='people']")
    person = page.locator("#people tbody tr")
    expect(person).to_have_count(1)
    person.click()
    expect(page.locator("#detail h2")).to_have_text("u1")
    events = page.locator("#detail ul.events li")
    expect(events).to_have_count(2)
    expect(events.locator(".name")).to_have_text(["Settings", "Home"])  # newest first
    expect(events.locator(".type")).to_have_text(["screen", "page"])


def test_plan_violations_name_their_rule_as_text(page: Page, client: Client, server: MockPipeServer) -> None:
    from mockpipe.plans import plan_from_data

    name = XSS_EVENTS[1]
    plan = plan_from_data(
        {
            "mockpipe_plan": 1,
            "track": {name: {"properties": {"type": "object", "properties": {"n": {"type": "integer"}}}}},
        },
        file="<b>plan</b>.yaml",
    )
    server.plans.set(plan)
    try:
        client.post("/v1/track", {"userId": "u1", "event": name, "properties": {"n": "one"}})
        expect(rows(page)).to_have_count(1)
        rows(page).first.click()
        note = page.locator("#detail ul.violations li .plan")
        expect(note).to_contain_text(f"[plan: track:{name} in <b>plan</b>.yaml#/track/")
        expect(note).to_contain_text("schema /properties/properties/properties/n/type")
        marked = page.locator("#detail .line.violation[data-pointer='/properties/n']")
        expect(marked.locator(".plan")).to_contain_text("(mockpipe)")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("main script, main b").count() == 0
    finally:
        server.plans.drop()
