"""The small values: UUIDs of version 4, push tokens of each platform, money per currency, ASCII forms."""

from __future__ import annotations

import random
import uuid

from mockpipe.factories.values import alphanumeric, email_local, money, push_token, random_uuid, uuid_text


def test_uuids_are_version_4_in_the_case_asked_for() -> None:
    text = uuid_text(2**128 - 1, upper=True)
    assert text == text.upper() and uuid.UUID(text).version == 4
    assert uuid.UUID(random_uuid(random.Random(1))).version == 4


def test_push_tokens_look_like_apns_and_fcm_tokens() -> None:
    rnd = random.Random(2)
    apns = push_token(rnd, ios=True)
    assert len(apns) == 64 and int(apns, 16) >= 0
    fcm = push_token(rnd, ios=False)
    assert fcm[22:29] == ":APA91b" and len(fcm) == 22 + 7 + 134


def test_money_has_no_cents_in_zero_decimal_currencies() -> None:
    assert money(12.345, "USD") == 12.35
    assert money(1234.5, "JPY") == 1234.0


def test_ascii_forms_of_words_and_names() -> None:
    assert alphanumeric("Crème Brûlée!") == "cremebrulee"
    assert email_local("Zoë..O'Neil__") == "zoe.oneil"  # runs of separators become one, none at the ends
    assert email_local("Иван", latin_only=True) == ""
