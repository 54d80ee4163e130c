"""Tracking plans: a team's event contract, imported from the formats teams use, checked and covered.

plan = load_plan("tracking-plan.yaml")          # or a folder; format detected from the content
checker = PlanChecker(plan)                       # compiled once
checker.check("track", call)                      # -> [PlanViolation], paths inside the call
Coverage(plan).observe_all(calls).render("markdown")
dump_plan(plan, "yaml")                            # mockpipe's own format, stable and sorted
"""

from mockpipe.plans.check import PlanChecker
from mockpipe.plans.codes import PLAN_RULES, PlanViolation, plan_catalogue_markdown, plan_rule
from mockpipe.plans.coverage import Coverage
from mockpipe.plans.export import dump_plan, plan_to_data
from mockpipe.plans.formats.own import plan_json_schema
from mockpipe.plans.load import FORMATS, detect_format, load_plan, loads_plan, plan_from_data
from mockpipe.plans.model import Plan, PlanError, PlanRule, RuleKind, Source

__all__ = [
    "FORMATS",
    "PLAN_RULES",
    "Coverage",
    "Plan",
    "PlanChecker",
    "PlanError",
    "PlanRule",
    "PlanViolation",
    "RuleKind",
    "Source",
    "detect_format",
    "dump_plan",
    "load_plan",
    "loads_plan",
    "plan_catalogue_markdown",
    "plan_from_data",
    "plan_json_schema",
    "plan_rule",
    "plan_to_data",
]
