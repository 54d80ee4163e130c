"""One builder per call type: the body of an identify, track (ordinary and semantic events), page,
screen, group or alias call, wrapped in its session's envelope (`sessions`)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from mockpipe.factories import data
from mockpipe.factories.sessions import Session, SessionBuilder
from mockpipe.factories.values import alphanumeric, group_id, money, push_token, random_uuid
from mockpipe.spec.fields import SEMANTIC_DEVICE, SEMANTIC_EVENTS, SEMANTIC_NEEDS_USER

if TYPE_CHECKING:
    from random import Random

    from mockpipe.types import JSONObject

# Ordinary events (name, weight); app lifecycle events only come from mobile SDKs.
EVENTS: tuple[tuple[str, int], ...] = (
    ("Order Completed", 12),
    ("Product Viewed", 14),
    ("Product Added", 10),
    ("Checkout Started", 6),
    ("Signed Up", 8),
    ("Logged In", 10),
    ("Video Playback Started", 6),
    ("Subscription Started", 4),
    ("Button Clicked", 8),
    ("Application Opened", 8),
)
_MOBILE_ONLY_EVENTS = ("Application Opened",)
# Sorted: the validator's catalogue is a frozenset, whose order changes from process to process.
SEMANTIC_EVENT_NAMES: tuple[str, ...] = tuple(sorted(SEMANTIC_EVENTS))
_SEMANTIC_SHARE = 0.1  # of track calls, when semantic events are mixed in
_COMPANY_SHARE = 0.4  # of identify calls whose traits carry the person's company


class CallBuilder(SessionBuilder):
    """The payload of each call type, from a session; `PayloadFactory` adds overrides, batches and cases."""

    def _identify(self, session: Session) -> JSONObject:
        rnd = self.faker.random
        if session.user_id is None and rnd.random() < 0.8:
            session.user_id = self._user_id(rnd)  # identify is mostly sent when someone signs up or logs in
        person = self._person(session)
        traits: JSONObject = {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "plan": person.plan,
            "createdAt": self._time(session, person.created_at),
        }
        if rnd.random() < _COMPANY_SHARE:
            traits["company"] = self._company(rnd)
        if rnd.random() < 0.5:
            traits["phone"] = self.faker.phone_number()
        if rnd.random() < 0.4:
            traits["logins"] = rnd.randint(1, 400)
        if rnd.random() < 0.15:
            traits["cio_subscription_preferences"] = {
                "topics": {f"topic_{index + 1}": rnd.random() < 0.7 for index in range(len(data.EMAIL_TOPICS))}
            }
        return self._envelope(session, "identify", {"traits": traits})

    def _company(self, rnd: Random) -> JSONObject:
        """Where a person works, as Segment's identify spec has it: `traits.company` with name, id, industry,
        employee_count (and plan, which the person's own `plan` trait stands for here)."""
        company: JSONObject = {"name": self.faker.company()}
        if rnd.random() < 0.5:
            company["id"] = group_id(rnd)  # the groupId of the company's group calls
        if rnd.random() < 0.7:
            company["industry"] = rnd.choice(data.INDUSTRIES)
        if rnd.random() < 0.6:
            company["employee_count"] = rnd.choice(data.COMPANY_SIZES)
        return company

    def _track(self, session: Session, event: str | None = None, semantic: bool | None = None) -> JSONObject:
        rnd = self.faker.random
        if event is None:
            if semantic or (semantic is None and rnd.random() < _SEMANTIC_SHARE):
                event = rnd.choice(SEMANTIC_EVENT_NAMES)
            else:
                mobile = session.library.channel == "mobile"
                pool = [(name, weight) for name, weight in EVENTS if mobile or name not in _MOBILE_ONLY_EVENTS]
                event = rnd.choices([name for name, _ in pool], [weight for _, weight in pool])[0]
        if event in SEMANTIC_EVENTS:
            return self._semantic(session, event)
        properties = self._event_properties(session, event, rnd)
        return self._envelope(session, "track", {"event": event, "properties": properties})

    def _event_properties(self, session: Session, event: str, rnd: Random) -> JSONObject:
        currency = session.market.currency
        if event in ("Order Completed", "Checkout Started"):
            products = [self._product(rnd, currency) for _ in range(rnd.randint(1, 4))]
            revenue = money(sum(p["price"] * p["quantity"] for p in products), currency)
            order: JSONObject = {"order_id": str(rnd.randint(100_000, 9_999_999))}
            if event == "Checkout Started":
                return {**order, "value": revenue, "currency": currency, "products": products}
            shipping = money(rnd.choice((0, 0, 4.99, 9.99)), currency)
            tax = money(revenue * rnd.choice((0, 0.07, 0.2)), currency)
            order.update(
                total=money(revenue + shipping + tax, currency),
                revenue=revenue,
                shipping=shipping,
                tax=tax,
                currency=currency,
                products=products,
            )
            if rnd.random() < 0.25:
                order["coupon"] = rnd.choice(data.COUPONS)
            return order
        if event in ("Product Viewed", "Product Added"):
            product = self._product(rnd, currency)
            product["currency"] = currency
            if event == "Product Added":
                product["cart_id"] = f"{rnd.getrandbits(64):016x}"
            else:
                product.pop("quantity")
            return product
        if event == "Signed Up":
            return {
                "plan": rnd.choice(data.PLANS),
                "method": rnd.choice(data.SIGNUP_METHODS),
                "trial": rnd.random() < 0.5,
            }
        if event == "Logged In":
            return {"method": rnd.choice(data.SIGNUP_METHODS)}
        if event == "Video Playback Started":
            return {
                "session_id": random_uuid(rnd),
                "content_asset_id": str(rnd.randint(10_000, 99_999)),
                "title": self.faker.catch_phrase(),
                "position": 0,
                "total_length": rnd.randint(30, 3600),
                "sound": rnd.randint(0, 100),
                "full_screen": rnd.random() < 0.3,
                "video_player": rnd.choice(data.VIDEO_PLAYERS),
                "bitrate": rnd.choice((800, 1500, 3000, 6000)),
            }
        if event == "Subscription Started":
            period = rnd.choice(("monthly", "annual"))
            amount = rnd.choice((9, 19, 49, 99)) * (10 if period == "annual" else 1)
            return {
                "plan": rnd.choice(data.PLANS[1:]),
                "billing_period": period,
                "amount": money(amount, currency),
                "currency": currency,
            }
        if event == "Button Clicked":
            return {
                "label": rnd.choice(("Get started", "Buy now", "Learn more", "Contact sales", "Subscribe")),
                "location": rnd.choice(("hero", "header", "footer", "pricing_table")),
            }
        if event == "Application Opened":
            app = session.context.get("app", {})
            return {
                "from_background": rnd.random() < 0.6,
                "version": app.get("version", "1.0.0"),
                "build": app.get("build", "1"),
            }
        return {}  # an event name given as an override that we have no properties for

    def _product(self, rnd: Random, currency: str) -> JSONObject:
        noun, category = rnd.choice(data.PRODUCTS)
        return {
            "product_id": str(rnd.randint(1000, 99_999)),
            "sku": f"{category[:3].upper()}-{rnd.randint(10_000, 99_999)}",
            "name": f"{rnd.choice(data.PRODUCT_ADJECTIVES)} {noun}",
            "category": category,
            "price": money(rnd.uniform(4, 250), currency),
            "quantity": rnd.randint(1, 3),
        }

    def _semantic(self, session: Session, event: str) -> JSONObject:
        """Customer.io's reserved events, with what each needs (see validation.SEMANTIC_*)."""
        rnd = self.faker.random
        body: JSONObject = {"event": event, "properties": {}}
        if event in SEMANTIC_NEEDS_USER and session.user_id is None:
            session.user_id = self._user_id(rnd)
        if event == "Object Deleted":
            session.user_id = None  # objects are not people: the spec keys the call on anonymousId
            if session.anonymous_id is None:
                session.anonymous_id = random_uuid(rnd)
        if event in ("Relationship Deleted", "Object Deleted"):
            body["properties"] = {"objectId": group_id(rnd), "objectTypeId": rnd.randint(1, 3)}
        if event in SEMANTIC_DEVICE:
            ios = session.library.platform == "ios" or (session.library.platform == "" and rnd.random() < 0.5)
            device = dict(session.context.get("device", {}))
            device.setdefault("token", push_token(rnd, ios=ios))
            device.setdefault("type", "ios" if ios else "android")
            body["context"] = {"device": device}
            if event == "Device Created or Updated":
                app = session.context.get("app", {})
                os_info = session.context.get("os", {})
                body["properties"] = {
                    "device_os": os_info.get("version", rnd.choice(data.IOS_VERSIONS)),
                    "device_model": device.get("model", rnd.choice(data.IOS_DEVICES).model),
                    "app_version": app.get("version", f"{rnd.randint(1, 9)}.{rnd.randint(0, 30)}.0"),
                    "push_enabled": rnd.random() < 0.8,
                }
        return self._envelope(session, "track", body)

    def _page(self, session: Session) -> JSONObject:
        rnd = self.faker.random
        page = self._web_page(session, rnd) if session.site else self._server_page(session, rnd)
        body: JSONObject = {"name": page["name"]}
        category = page.get("category")
        if category is not None or session.library.explicit_nulls:
            body["category"] = category
        if session.library.channel == "browser":
            body["properties"] = page  # the browser fills properties with the page and keeps context.page
        else:
            properties = {key: page[key] for key in ("url", "title", "path")}
            if category is not None and session.library.name == data.NODE.name:
                properties["category"] = category  # the node SDKs copy category into properties
            body["properties"] = properties
        payload = self._envelope(session, "page", body)
        if isinstance(payload.get("properties"), dict):
            payload["properties"].pop("_campaign", None)
            if payload["properties"].get("category") is None:
                payload["properties"].pop("category", None)
        return payload

    def _server_page(self, session: Session, rnd: Random) -> JSONObject:
        if not session.site:
            session.site = f"{self._word()}.{rnd.choice(data.SITE_TLDS)}"
        return self._web_page(session, rnd)

    def _screen(self, session: Session) -> JSONObject:
        rnd = self.faker.random
        name, category = rnd.choice(data.SCREENS)
        properties: JSONObject = {}
        if name == "Product Detail":
            properties = {"product_id": str(rnd.randint(1000, 99_999))}
        elif name == "Search":
            properties = {"query": self._word()}
        elif name == "Feed":
            properties = {"tab": rnd.choice(("for_you", "following", "popular"))}
        body: JSONObject = {"name": name}
        if category is not None or session.library.explicit_nulls:
            body["category"] = category
        body["properties"] = properties
        return self._envelope(session, "screen", body)

    def _group(self, session: Session) -> JSONObject:
        rnd = self.faker.random
        company: str = self.faker.company()
        slug = alphanumeric(company)[:24] or self._word()
        object_type = str(rnd.choice((1, 1, 1, 2, 3)))
        traits: JSONObject = {
            "name": company,
            "industry": rnd.choice(data.INDUSTRIES),
            "employees": rnd.choice(data.COMPANY_SIZES),
            "plan": rnd.choice(data.PLANS),
            "website": f"https://www.{slug}.com",
            "createdAt": self._time(session, self.base_time - timedelta(days=rnd.randint(30, 3000))),
            "relationshipAttributes": {"role": rnd.choice(data.ROLES), "joined_at": self._time(session, session.clock)},
        }
        body: JSONObject = {"groupId": group_id(rnd)}
        if rnd.random() < 0.2:
            body["objectTypeId"] = object_type  # the spec allows the top level too
        else:
            traits["object_type_id"] = object_type
        body["traits"] = traits
        if session.user_id is None and session.anonymous_id is None:
            session.user_id = self._user_id(rnd)
        return self._envelope(session, "group", body)

    def _alias(self, session: Session) -> JSONObject:
        rnd = self.faker.random
        previous = session.anonymous_id or self._user_id(rnd)
        if session.user_id is None:
            session.user_id = self._user_id(rnd)  # the moment an anonymous visitor signs up
        return self._envelope(session, "alias", {"previousId": previous, "userId": session.user_id}, ids=False)
