"""Contracts: what an app sends, inferred from its calls as a plan, and what a change to it breaks.

contract = Contract().observe_all(payloads)     # mergeable, order-independent observations
contract.render()                                # the contract file (mockpipe's own plan format, YAML)
diff_plans(old_plan, new_plan)                   # changes per event, each breaking or compatible
"""

from mockpipe.contracts.infer import Contract, event_label, infer_contract

__all__ = ["Contract", "event_label", "infer_contract"]
