"""The README stays true: its rule table is the code's, and it holds the two newcomer commands."""

from __future__ import annotations

from mockpipe.spec.rules import README_END, README_START, with_catalogue
from tests.support.paths import README


def test_rule_table_matches_the_catalogue() -> None:
    text = README.read_text()
    assert README_START in text and README_END in text
    assert with_catalogue(text) == text, "README rule table is stale: run `mockpipe rules --write README.md`"


def test_readme_has_the_install_and_test_commands() -> None:
    text = README.read_text()
    assert "pip install -e . && .venv/bin/mockpipe serve" in text
    assert ".venv/bin/python -m pytest -n auto" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pytest -n auto -ra" in ci, ".ci/run must run the README's test command"
