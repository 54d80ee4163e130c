"""JSON kinds, pointers, ids, dumps and the short rendering used in messages."""

from __future__ import annotations

import json

import pytest

from mockpipe.spec.jsonvalues import SHOW_LIMIT, dumps, has_id, is_number, json_kind, pointer, show


def test_pointer_escapes_slash_and_tilde() -> None:
    assert pointer("integrations", "a/b~c") == "/integrations/a~1b~0c"
    assert pointer("batch", 0, "context") == "/batch/0/context"
    assert pointer() == ""


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "null"),
        (True, "a boolean"),
        (0, "a number"),
        (1.5, "a number"),
        ("", "a string"),
        ([], "an array"),
        ({}, "an object"),
    ],
)
def test_json_kind(value: object, kind: str) -> None:
    assert json_kind(value) == kind


def test_numbers_are_not_booleans() -> None:
    assert is_number(0) and is_number(2.5) and is_number(2**70)
    assert not is_number(True) and not is_number("1") and not is_number(None)


def test_an_id_is_a_non_empty_string_or_a_number() -> None:
    assert has_id("u1") and has_id(0) and has_id(7.5)
    assert not has_id("") and not has_id(None) and not has_id(False) and not has_id(["u1"]) and not has_id({})


def test_dumps_writes_what_orjson_refuses() -> None:
    assert dumps({"a": [1, "é"]}) == b'{"a":[1,"\xc3\xa9"]}'
    big = {"n": 2**70, "t": "é"}
    assert json.loads(dumps(big)) == big
    assert dumps(big) == '{"n":1180591620717411303424,"t":"é"}'.encode()


def test_show_is_short_json() -> None:
    assert show("x") == '"x"'
    assert show(None) == "null"
    assert show(2**70) == "1180591620717411303424"  # orjson refuses it: repr, which reads the same
    long = show("y" * 100)
    assert len(long) == SHOW_LIMIT and long.endswith("...") and long.startswith('"yyy')
    assert len(show("y" * (SHOW_LIMIT - 2))) == SHOW_LIMIT  # quotes included, nothing cut
