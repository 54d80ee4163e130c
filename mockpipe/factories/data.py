"""Static vocabularies of the payload factories: SDK profiles, markets, devices, pages, screens, events.

Plain tuples (never sets): the factories pick from them with a seeded `random.Random`, and set order
would change with PYTHONHASHSEED, breaking same-seed-same-output across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

# Timestamps count back from here unless a factory is given another base time: a fixed instant keeps
# the output independent of the wall clock.
BASE_TIME = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

Channel = Literal["browser", "server", "mobile"]
CHANNELS: tuple[Channel, ...] = ("browser", "server", "mobile")


@dataclass(frozen=True, slots=True)
class Library:
    """How one SDK shapes what it sends (see /work/shared/clients and docs/clients.md)."""

    name: str
    version: str
    channel: Channel
    time_style: Literal["js", "python"]  # 2024-01-02T03:04:05.123Z or 2024-01-02T03:04:05.123+00:00
    message_ids: Literal["uuid", "UUID", "node", "ajs"]
    explicit_nulls: bool = False  # the Python clients send "anonymousId": null and the like
    integrations: bool = True  # sends `integrations: {}`
    body_write_key: bool = False  # the browser and mobile SDKs carry the key in the body
    sent_at: Literal["call", "batch", "none"] = "none"
    metadata: tuple[tuple[str, str], ...] = ()
    platform: Literal["ios", "android", ""] = ""
    batch_keys: tuple[str, ...] = ()  # extra envelope keys: "sentAt", "writeKey"


PYTHON = Library(
    "analytics-python",
    "1.1.0",
    "server",
    "python",
    "uuid",
    explicit_nulls=True,
    sent_at="batch",
    batch_keys=("sentAt",),
)
NODE = Library(
    "@customerio/cdp-analytics-node",
    "1.0.0-beta.22",
    "server",
    "js",
    "node",
    metadata=(("nodeVersion", "20.20.2"), ("jsRuntime", "node")),
)
BROWSER = Library(
    "analytics.js", "next-0.5.11", "browser", "js", "ajs", body_write_key=True, sent_at="call", batch_keys=("writeKey",)
)
IOS = Library(
    "analytics-swift",
    "1.5.14+cio.1",
    "mobile",
    "js",
    "UUID",
    integrations=False,
    platform="ios",
    batch_keys=("sentAt", "writeKey"),
)
ANDROID = Library(
    "analytics-kotlin",
    "1.16.3",
    "mobile",
    "js",
    "uuid",
    integrations=False,
    platform="android",
    batch_keys=("sentAt", "writeKey"),
)
LIBRARIES: dict[Channel, tuple[Library, ...]] = {
    "server": (PYTHON, NODE),
    "browser": (BROWSER,),
    "mobile": (IOS, ANDROID),
}
BROWSER_BUNDLED = ("Customer.io Data Pipelines",)


@dataclass(frozen=True, slots=True)
class Market:
    """Where a person is: locale, currency and time zones that agree with each other."""

    locale: str
    currency: str
    timezones: tuple[str, ...]
    carriers: tuple[str, ...]
    weight: int


MARKETS: tuple[Market, ...] = (
    Market(
        "en-US",
        "USD",
        ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
        ("T-Mobile", "Verizon", "AT&T"),
        40,
    ),
    Market("en-GB", "GBP", ("Europe/London",), ("EE", "Vodafone UK", "O2 - UK", "Three"), 10),
    Market("de-DE", "EUR", ("Europe/Berlin",), ("Telekom.de", "Vodafone.de", "o2-de"), 8),
    Market("fr-FR", "EUR", ("Europe/Paris",), ("Orange F", "SFR", "Bouygues Telecom", "Free"), 7),
    Market("es-ES", "EUR", ("Europe/Madrid",), ("Movistar", "Vodafone ES", "Orange"), 5),
    Market("nl-NL", "EUR", ("Europe/Amsterdam",), ("KPN", "Vodafone NL", "Odido"), 4),
    Market("pt-BR", "BRL", ("America/Sao_Paulo",), ("Vivo", "Claro BR", "TIM"), 6),
    Market("en-CA", "CAD", ("America/Toronto", "America/Vancouver"), ("Rogers", "Bell", "TELUS"), 6),
    Market("en-AU", "AUD", ("Australia/Sydney", "Australia/Melbourne"), ("Telstra", "Optus", "Vodafone AU"), 5),
    Market("ja-JP", "JPY", ("Asia/Tokyo",), ("NTT DOCOMO", "au", "SoftBank"), 4),
    Market("en-IN", "INR", ("Asia/Kolkata",), ("Jio", "Airtel", "Vi"), 5),
)
MARKET_WEIGHTS = tuple(market.weight for market in MARKETS)
ZERO_DECIMAL_CURRENCIES = ("JPY",)


@dataclass(frozen=True, slots=True)
class PhoneModel:
    """A phone model: what analytics-swift / analytics-kotlin put in context.device and context.screen."""

    manufacturer: str
    model: str
    name: str
    width: int
    height: int
    density: float


IOS_DEVICES: tuple[PhoneModel, ...] = (
    PhoneModel("Apple", "iPhone14,5", "iPhone", 390, 844, 3.0),  # iPhone 13
    PhoneModel("Apple", "iPhone14,6", "iPhone", 375, 667, 2.0),  # iPhone SE (3rd generation)
    PhoneModel("Apple", "iPhone14,7", "iPhone", 390, 844, 3.0),  # iPhone 14
    PhoneModel("Apple", "iPhone15,2", "iPhone", 393, 852, 3.0),  # iPhone 14 Pro
    PhoneModel("Apple", "iPhone15,3", "iPhone", 430, 932, 3.0),  # iPhone 14 Pro Max
    PhoneModel("Apple", "iPhone15,4", "iPhone", 393, 852, 3.0),  # iPhone 15
    PhoneModel("Apple", "iPhone16,1", "iPhone", 393, 852, 3.0),  # iPhone 15 Pro
    PhoneModel("Apple", "iPhone16,2", "iPhone", 430, 932, 3.0),  # iPhone 15 Pro Max
    PhoneModel("Apple", "iPhone17,1", "iPhone", 402, 874, 3.0),  # iPhone 16 Pro
)
IOS_VERSIONS = ("16.7.8", "17.2.1", "17.4.1", "17.5.1", "17.6.1", "18.0.1", "18.1.1", "18.2", "18.3.2")
ANDROID_DEVICES: tuple[PhoneModel, ...] = (
    PhoneModel("Google", "Pixel 7", "panther", 1080, 2400, 2.625),
    PhoneModel("Google", "Pixel 8", "shiba", 1080, 2400, 2.625),
    PhoneModel("Google", "Pixel 8 Pro", "husky", 1344, 2992, 3.5),
    PhoneModel("samsung", "SM-S911U", "dm1q", 1080, 2340, 3.0),
    PhoneModel("samsung", "SM-S918B", "dm3q", 1440, 3088, 3.5),
    PhoneModel("samsung", "SM-A546B", "a54x", 1080, 2340, 2.625),
    PhoneModel("OnePlus", "CPH2449", "OP594DL1", 1240, 2772, 3.5),
    PhoneModel("Xiaomi", "23049PCD8G", "marble", 1220, 2712, 2.75),
    PhoneModel("motorola", "moto g power 5G - 2023", "devonn", 1080, 2400, 2.625),
)
# (Android version, build id) pairs as they appear in Dalvik user agents.
ANDROID_VERSIONS = (
    ("12", "SQ3A.220705.004"),
    ("13", "TQ3A.230901.001"),
    ("14", "UQ1A.240205.004"),
    ("14", "AP1A.240505.005"),
    ("15", "AP3A.241105.007"),
)
APP_SUFFIXES = ("", " App", "ly", "ify", " Go", " Pro")

# Desktop and mobile browsers of the last few years; versions are drawn at random within these ranges.
BROWSER_TEMPLATES = (
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 "
        "Safari/537.36",
        (118, 131),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 "
        "Safari/537.36",
        (118, 131),
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
        (118, 131),
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile "
        "Safari/537.36",
        (118, 131),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v}.1 "
        "Safari/605.1.15",
        (16, 18),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/{v}.5 Mobile/15E148 Safari/604.1",
        (16, 18),
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0", (115, 133)),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 "
        "Safari/537.36 Edg/{v}.0.0.0",
        (118, 131),
    ),
)
SITE_SUFFIXES = ("", "hq", "app", "shop", "labs", "ly")
SITE_TLDS = ("com", "com", "com", "io", "co", "net", "app")

# (name, path, category); "{slug}" is filled with a word, "/search" gets a query string.
PAGES = (
    ("Home", "/", None),
    ("Pricing", "/pricing", "Marketing"),
    ("Features", "/features", "Marketing"),
    ("Customers", "/customers", "Marketing"),
    ("Blog Post", "/blog/{slug}", "Blog"),
    ("Docs", "/docs/{slug}", "Docs"),
    ("Product", "/products/{slug}", "Shop"),
    ("Category", "/collections/{slug}", "Shop"),
    ("Cart", "/cart", "Shop"),
    ("Checkout", "/checkout", "Shop"),
    ("Search", "/search", "Shop"),
    ("Sign Up", "/signup", "Account"),
    ("Log In", "/login", "Account"),
    ("Settings", "/account/settings", "Account"),
)
REFERRERS = (
    "",
    "",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://t.co/",
    "https://www.facebook.com/",
    "https://www.linkedin.com/",
    "https://news.ycombinator.com/",
    "https://www.reddit.com/",
)
UTM_SOURCES = ("google", "facebook", "newsletter", "twitter", "linkedin", "bing", "partner")
UTM_MEDIUMS = ("cpc", "social", "email", "referral", "display", "affiliate")
UTM_CAMPAIGNS = (
    "spring_sale",
    "product_launch",
    "black_friday",
    "onboarding_drip",
    "webinar",
    "retargeting",
    "brand_search",
    "winback",
)
UTM_CONTENTS = ("banner_a", "banner_b", "text_link", "hero_cta", "footer")

SCREENS = (
    ("Home", None),
    ("Feed", None),
    ("Search", "Shop"),
    ("Product Detail", "Shop"),
    ("Cart", "Shop"),
    ("Checkout", "Shop"),
    ("Order Confirmation", "Shop"),
    ("Profile", "Account"),
    ("Settings", "Account"),
    ("Notifications", None),
    ("Onboarding", "Account"),
    ("Login", "Account"),
    ("Messages", None),
)

PRODUCT_ADJECTIVES = (
    "Classic",
    "Organic",
    "Wireless",
    "Vintage",
    "Compact",
    "Premium",
    "Everyday",
    "Recycled",
    "Ultralight",
    "Handmade",
    "Smart",
    "Waterproof",
)
# (noun, category): a product name is an adjective and one of these nouns.
PRODUCTS = (
    ("Sneakers", "Apparel"),
    ("Hoodie", "Apparel"),
    ("Running Shorts", "Apparel"),
    ("Backpack", "Accessories"),
    ("Sunglasses", "Accessories"),
    ("Phone Case", "Accessories"),
    ("Headphones", "Electronics"),
    ("Keyboard", "Electronics"),
    ("Desk Lamp", "Home"),
    ("Teapot", "Home"),
    ("Water Bottle", "Outdoors"),
    ("Yoga Mat", "Outdoors"),
    ("Coffee Beans", "Grocery"),
    ("Notebook", "Stationery"),
)
COUPONS = ("WELCOME10", "SPRING20", "FREESHIP", "VIP15")
PLANS = ("free", "starter", "pro", "business", "enterprise")
SIGNUP_METHODS = ("email", "google", "apple", "github", "sso")
VIDEO_PLAYERS = ("html5", "youtube", "vimeo", "jwplayer")
INDUSTRIES = ("Software", "Retail", "Healthcare", "Finance", "Education", "Media", "Manufacturing", "Travel")
COMPANY_SIZES = (5, 12, 40, 120, 500, 2000)  # employees
ROLES = ("admin", "member", "owner", "viewer", "billing")
EMAIL_TOPICS = ("newsletter", "product_updates", "promotions", "billing")
# For site, app and search words when the Faker locale's words are in another script (ja_JP, ru_RU, ...).
LATIN_WORDS = (
    "acme",
    "atlas",
    "beacon",
    "cedar",
    "cobalt",
    "ember",
    "falcon",
    "harbor",
    "juniper",
    "lumen",
    "maple",
    "meadow",
    "nova",
    "orbit",
    "pixel",
    "quartz",
    "summit",
    "vista",
    "willow",
    "zephyr",
)
