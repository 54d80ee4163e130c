"""The expectation's JSON form (what `POST /mockpipe/expect` takes), and the matcher's import cost."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from mockpipe.testing.matching import Expectation


def test_an_expectation_reads_its_json_form() -> None:
    body = {"type": "track", "fields": {"event": "E"}, "count": 2, "accepted": None}
    assert Expectation.from_json(body) == Expectation(type="track", fields={"event": "E"}, count=2, accepted=None)
    assert Expectation.from_json({"type": "page"}) == Expectation(type="page")
    assert Expectation.from_json({"type": "page", "fields": None}).fields == {}
    assert Expectation.from_json(body).to_json() == body


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "type:"),
        ({"type": "Track"}, "type:"),
        ({"type": "track", "fields": "E"}, "fields:"),
        ({"type": "track", "count": True}, "count:"),
        ({"type": "track", "count": 1.5}, "count:"),
        ({"type": "track", "accepted": 1}, "accepted:"),
    ],
)
def test_a_bad_json_form_names_the_field(body: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Expectation.from_json(body)


def test_refused_and_either_verdicts_describe_themselves() -> None:
    assert Expectation(type="identify", accepted=False).describe() == "a refused identify call"
    assert Expectation(type="alias", count=2, accepted=None).describe() == "exactly 2 alias calls (accepted or refused)"


def test_the_matcher_and_the_explanation_load_no_web_stack() -> None:
    code = (
        "import mockpipe.testing.assertions, mockpipe.testing.explanation, sys; "
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'starlette', 'hypercorn'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
