"""Small random values the factories draw as real SDKs and services write them: UUIDs, push tokens,
group ids, user agents, money, and the ASCII forms of Faker's words and names for ids and addresses."""

from __future__ import annotations

import base64
import re
import unicodedata
import uuid
from typing import TYPE_CHECKING

from mockpipe.factories import data

if TYPE_CHECKING:
    from random import Random


def random_uuid(rnd: Random, *, upper: bool = False) -> str:
    return uuid_text(rnd.getrandbits(128), upper=upper)


def uuid_text(number: int, *, upper: bool = False) -> str:
    """A version-4 UUID from a 128-bit number (its version and variant bits overwritten)."""
    text = str(uuid.UUID(int=number, version=4))
    return text.upper() if upper else text


def push_token(rnd: Random, *, ios: bool) -> str:
    if ios:
        return f"{rnd.getrandbits(256):064x}"  # an APNs device token
    # An FCM registration token: 22 characters, a colon, then "APA91b" and 134 more (URL-safe base64).
    text = base64.urlsafe_b64encode(rnd.randbytes(117)).decode()
    return f"{text[:22]}:APA91b{text[22:156]}"


def group_id(rnd: Random) -> str:
    return f"{rnd.choice(('acct', 'org', 'co', 'team'))}_{rnd.randint(1000, 999_999)}"


def browser_agent(rnd: Random) -> str:
    template, (low, high) = rnd.choice(data.BROWSER_TEMPLATES)
    return template.format(v=rnd.randint(low, high))


def money(amount: float, currency: str) -> float:
    return float(round(amount)) if currency in data.ZERO_DECIMAL_CURRENCIES else round(float(amount), 2)


def ascii_text(text: str) -> str:
    """Text without accents, for ids, e-mail addresses and urls built from Faker's words and names."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def alphanumeric(text: str) -> str:
    """`text` in lower-case ASCII letters and digits only ("" for words of another script)."""
    return _NOT_ALPHANUMERIC.sub("", ascii_text(text).lower())


def email_local(text: str, *, latin_only: bool = False) -> str:
    """`text` as the local part of an e-mail address: lower-case ASCII letters and digits, in runs joined
    by single dots, dashes or underscores; "" when nothing is left. With `latin_only`, also "" when
    a letter has no ASCII form (Cyrillic, kana, ...): what is left would be a misleading fragment."""
    if latin_only and any(
        ch.isalpha() and not ch.isascii() and not unicodedata.combining(ch)
        for ch in unicodedata.normalize("NFKD", text)
    ):
        return ""
    local = _NOT_IN_LOCAL_PART.sub("", ascii_text(text).lower())
    return _SEPARATOR_RUN.sub(lambda run: run.group(0)[0], local).strip("._-")


_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_NOT_IN_LOCAL_PART = re.compile(r"[^a-z0-9._-]+")
_SEPARATOR_RUN = re.compile(r"[._-]{2,}")
