"""The one time codec: ISO-8601 texts in and out, and received-at times in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mockpipe.spec import times
from mockpipe.spec.times import (
    EPOCH,
    MILLISECOND,
    UNUSUAL_TIME,
    VALID_TIMESTAMPS,
    format_time,
    is_timestamp,
    parse_timestamp,
    time_ms,
    time_text,
)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26T21:28:47.461+00:00",
        "2026-11-26T21:28:47.451Z",
        "2026-11-26T21:28:47.324240+00:00",
        "2024-01-02T03:04:05",
        "2024-01-02",
    ],
)
def test_iso_timestamps_the_sdks_send_parse(text: str) -> None:
    assert parse_timestamp(text) is not None


def test_parsed_times_are_aware() -> None:
    assert parse_timestamp("2024-01-02T03:04:05") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp("2024-01-02T03:04:05z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp("2024-01-02T05:04:05+02:00") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    for text in ("yesterday", "", "2024-13-01", "1704164645"):
        assert parse_timestamp(text) is None, text


def test_format_time_writes_utc_milliseconds_and_a_z() -> None:
    assert format_time(datetime(2024, 1, 2, 3, 4, 5, 678_999, tzinfo=UTC)) == "2024-01-02T03:04:05.678Z"
    assert format_time(datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == "2024-01-02T03:04:05.000Z"
    assert format_time(EPOCH) == "1970-01-01T00:00:00.000Z"
    assert format_time(EPOCH + 1500 * MILLISECOND) == "1970-01-01T00:00:01.500Z"


def test_is_timestamp_remembers_what_it_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(times, "_VALID_TIMESTAMPS_KEPT", 2)
    VALID_TIMESTAMPS.clear()
    assert is_timestamp("2024-01-02T03:04:05Z") and "2024-01-02T03:04:05Z" in VALID_TIMESTAMPS
    assert not is_timestamp("nope") and "nope" not in VALID_TIMESTAMPS
    assert is_timestamp("2024-01-03") and len(VALID_TIMESTAMPS) == 2
    assert is_timestamp("2024-01-04") and list(VALID_TIMESTAMPS) == ["2024-01-04"]  # full: started afresh


def test_times_come_back_as_the_same_text() -> None:
    for text in ("2026-01-02T03:04:05.678Z", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z"):
        assert time_text(time_ms(text)) == text
    assert time_ms("2026-01-02T03:04:05.678Z") == 1767323045678


def test_texts_that_would_not_come_back_the_same_are_unusual() -> None:
    for text in ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.678+00:00", "2026-01-02T03:04:05.678", "t", ""):
        assert time_ms(text) == UNUSUAL_TIME


def test_times_out_of_range_in_utc_are_unusual_not_errors() -> None:
    for text in ("0001-01-01T00:00:00.000+01:00", "9999-12-31T23:59:59.999-01:00"):
        assert time_ms(text) == UNUSUAL_TIME
