"""Contracts: what an app sends, inferred from its calls as a plan, and what a change to it breaks.

contract = Contract().observe_all(payloads)     # mergeable, order-independent observations
contract.render()                                # the contract file (mockpipe's own plan format, YAML)
diff_plans(old_plan, new_plan)                   # changes per event, each breaking or compatible
"""

from mockpipe.contracts.diff import RULES, Change, ContractDiff, diff_plans
from mockpipe.contracts.infer import Contract, event_label, infer_contract
from mockpipe.contracts.report import render_diff, rules_markdown

__all__ = [
    "RULES",
    "Change",
    "Contract",
    "ContractDiff",
    "diff_plans",
    "event_label",
    "infer_contract",
    "render_diff",
    "rules_markdown",
]
