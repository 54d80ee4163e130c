"""What `mockpipe bench` sends: realistic track calls and 100-call batches, as body templates, in
two kinds of traffic.

Fresh traffic (`single`, `batch`): every call carries a messageId of its own, so bodies are templates
with a fixed-width placeholder that each request fills with a counter: the Content-Length stays the
same and a request costs the client one `bytes.join`. Resends (`single-resend`, `batch-resend`): the
same body every time, as a retry storm or a load test replaying one fixture sends; its template has
no placeholder left (the id is filled in once, at the same width), so the clients send it as it is.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from typing import Any

import orjson

PLACEHOLDER = b"@ID@"
ID_WIDTH = 18  # run (4) + client (2) + connection (3) + counter (9) digits
# Each run of a generator (a warm-up, a turn) gets its own run number: a run that reused the ids of
# the one before would send nothing but resends: fresh traffic would not be fresh.
_runs = itertools.count(1)


def next_run() -> int:
    """A run number for ids no earlier run of this process sent (four digits)."""
    return next(_runs) % 10_000


RESEND_ID = b"0" * ID_WIDTH  # every request of a resend scenario (fresh ids count from 1: never this)
WRITE_KEY = "wk_bench"
BATCH_SIZE = 100
SENT_AT = "2026-01-02T03:04:05.678Z"


# -- bodies ------------------------------------------------------------------------------------------


def _context(index: int) -> dict[str, Any]:
    return {
        "library": {"name": "analytics-node", "version": "6.2.0"},
        "ip": f"203.0.113.{index % 250 + 1}",
        "locale": "en-US",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
        "Safari/537.36",
        "page": {"path": "/checkout", "url": "https://shop.example.com/checkout", "title": "Checkout"},
    }


def track_call(index: int = 0) -> dict[str, Any]:
    """A realistic server-side track call of about 600 bytes, messageId left as the placeholder."""
    return {
        "userId": f"user-{index:06d}",
        "event": "Order Completed",
        "properties": {
            "order_id": f"o-{index}",
            "revenue": 99.5,
            "currency": "USD",
            "coupon": None,
            "products": [
                {"sku": "sku-1", "name": "Blue Mug", "price": 12.5, "qty": 2},
                {"sku": "sku-7", "name": "Tea Tin", "price": 74.5, "qty": 1},
            ],
        },
        "context": _context(index),
        "timestamp": SENT_AT,
        "messageId": PLACEHOLDER.decode(),
    }


def batch_item(index: int) -> dict[str, Any]:
    """One item of a batch (about 400 bytes): tracks, identifies and pages in turn."""
    kind = ("track", "identify", "page")[index % 3]
    item: dict[str, Any] = {
        "type": kind,
        "userId": f"user-{index:06d}",
        "anonymousId": f"anon-{index:08d}-5f1c3b2a",
        "timestamp": SENT_AT,
        "messageId": f"{PLACEHOLDER.decode()}-{index:03d}",
        "context": {
            "library": {"name": "analytics-node", "version": "6.2.0"},
            "ip": f"203.0.113.{index % 250 + 1}",
            "locale": "en-US",
            "timezone": "Europe/Paris",
        },
    }
    if kind == "track":
        item["event"] = "Product Viewed"
        item["properties"] = {
            "product_id": f"p-{index}",
            "name": "Blue Mug",
            "price": 12.5,
            "currency": "USD",
            "category": "Kitchen",
        }
    elif kind == "identify":
        item["traits"] = {
            "email": f"user{index}@example.com",
            "name": "Ada Lovelace",
            "plan": "pro",
            "createdAt": "2025-06-07T08:09:10.000Z",
        }
    else:
        item["name"] = "Product"
        item["properties"] = {
            "path": f"/products/{index}",
            "url": f"https://shop.example.com/products/{index}",
            "title": "Blue Mug",
        }
    return item


@dataclass(frozen=True, slots=True)
class Scenario:
    """A kind of request the benchmark sends: its path and body template."""

    name: str
    path: str
    events: int  # calls per request
    template: bytes  # JSON with PLACEHOLDER where each request puts its own id (none left: resends)
    resend: bool = False  # the same body every time

    @property
    def size(self) -> int:
        return len(self.template) + self.template.count(PLACEHOLDER) * (ID_WIDTH - len(PLACEHOLDER))

    @property
    def kind(self) -> str:
        """The traffic, as the report names it."""
        return "resends" if self.resend else "fresh ids"

    @property
    def base(self) -> str:
        """The name of the scenario with fresh ids that this one resends (itself when fresh)."""
        return self.name.removesuffix("-resend")

    def body(self, request_id: bytes) -> bytes:
        return request_id.join(self.template.split(PLACEHOLDER))

    def parts(self) -> list[bytes]:
        """The template cut at each placeholder (for clients that join them with an id)."""
        return self.template.split(PLACEHOLDER)


def _resent(scenario: Scenario) -> Scenario:
    """`scenario` as resends: its body with RESEND_ID in every place, sent as it is each time."""
    return Scenario(f"{scenario.name}-resend", scenario.path, scenario.events, scenario.body(RESEND_ID), resend=True)


_FRESH = (
    Scenario("single", "/v1/track", 1, orjson.dumps(track_call())),
    Scenario(
        "batch",
        "/v1/batch",
        BATCH_SIZE,
        orjson.dumps({"batch": [batch_item(i) for i in range(BATCH_SIZE)], "sentAt": SENT_AT}),
    ),
)
# Fresh ids first, then resends: the order of the report.
SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario for scenario in (*_FRESH, *(_resent(fresh) for fresh in _FRESH))
}

AUTHORIZATION = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
HEADERS = {"Authorization": AUTHORIZATION, "Content-Type": "application/json", "User-Agent": "mockpipe-bench"}


def request_head(scenario: Scenario, host: str, port: int) -> bytes:
    lines = [
        f"POST {scenario.path} HTTP/1.1",
        f"Host: {host}:{port}",
        *(f"{name}: {value}" for name, value in HEADERS.items()),
        f"Content-Length: {scenario.size}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
