"""docs/contracts.md holds the classification table exactly as the code classifies."""

from __future__ import annotations

from mockpipe.contracts import RULES, rules_markdown
from tests.support.paths import ROOT


def test_the_docs_hold_the_rules_table_of_the_code() -> None:
    text = (ROOT / "docs" / "contracts.md").read_text()
    assert rules_markdown() in text, "docs/contracts.md: paste mockpipe.contracts.rules_markdown() as the table"
    assert {rule.severity for rule in RULES.values()} == {"breaking", "compatible"}
