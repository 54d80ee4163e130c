"""The error answers' helpers: ids in paths, and the numbers of query parameters."""

from __future__ import annotations

import pytest

from mockpipe.emulator.responses import MAX_PATH_ID, float_param, int_param, path_id, shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("0", 0),
        ("0007", 7),
        (str(MAX_PATH_ID), MAX_PATH_ID),
        ("0" * 5000 + "12", 12),
        (str(MAX_PATH_ID + 1), None),
        ("9" * 5000, None),  # past int(str)'s 4300 digits
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1_000", None),
        ("١٢", None),  # Arabic-Indic digits: int() would take them
        ("abc", None),
    ],
)
def test_path_ids_are_ascii_digits_up_to_sqlite_integers(text: str, expected: int | None) -> None:
    assert path_id(text) == expected


def test_number_parameters_name_themselves_in_errors() -> None:
    assert int_param({}, "count", 1) == 1
    assert int_param({"count": "12"}, "count", 1) == 12
    assert float_param({"timeout": "0.5"}, "timeout", 5.0, low=0, high=9, unit="seconds") == 0.5
    with pytest.raises(ValueError, match=r"^query parameter timeout='abc': expected a number of seconds from 0 to 9$"):
        float_param({"timeout": "abc"}, "timeout", 5.0, low=0, high=9, unit="seconds")
    with pytest.raises(ValueError, match=r"^query parameter count='9{37}\.\.\.': expected a whole number >= 0$"):
        int_param({"count": "9" * 5000}, "count", 1)


def test_shown_cuts_long_text() -> None:
    assert shown("abc") == "abc"
    assert shown("x" * 100) == "x" * 37 + "..."
