"""Tracking plans: a team's event contract, imported from the formats teams use, checked and covered.

plan = load_plan("tracking-plan.yaml")          # or a folder; format detected from the content
checker = PlanChecker(plan)                       # compiled once
checker.check("track", call)                      # -> [PlanViolation], paths inside the call
Coverage(plan).observe_all(calls).render("markdown")
dump_plan(plan, "yaml")                            # mockpipe's own format, stable and sorted

Every name loads on first use: an emulator without a plan holds its `PlanRegistry` (plans/registry.py)
but never imports jsonschema-rs nor PyYAML (about 6 MB and 30 ms at start).
"""

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "PlanChecker": "mockpipe.plans.check",
    **dict.fromkeys(("PLAN_RULES", "PlanViolation", "plan_catalogue_markdown", "plan_rule"), "mockpipe.plans.codes"),
    "Coverage": "mockpipe.plans.coverage",
    **dict.fromkeys(("dump_plan", "plan_to_data"), "mockpipe.plans.export"),
    "plan_json_schema": "mockpipe.plans.formats.own",
    **dict.fromkeys(("FORMATS", "detect_format", "load_plan", "loads_plan", "plan_from_data"), "mockpipe.plans.load"),
    **dict.fromkeys(("Plan", "PlanError", "PlanRule", "RuleKind", "Source"), "mockpipe.plans.model"),
}

if TYPE_CHECKING:
    from mockpipe.plans.check import PlanChecker as PlanChecker
    from mockpipe.plans.codes import (
        PLAN_RULES as PLAN_RULES,
        PlanViolation as PlanViolation,
        plan_catalogue_markdown as plan_catalogue_markdown,
        plan_rule as plan_rule,
    )
    from mockpipe.plans.coverage import Coverage as Coverage
    from mockpipe.plans.export import dump_plan as dump_plan, plan_to_data as plan_to_data
    from mockpipe.plans.formats.own import plan_json_schema as plan_json_schema
    from mockpipe.plans.load import (
        FORMATS as FORMATS,
        detect_format as detect_format,
        load_plan as load_plan,
        loads_plan as loads_plan,
        plan_from_data as plan_from_data,
    )
    from mockpipe.plans.model import (
        Plan as Plan,
        PlanError as PlanError,
        PlanRule as PlanRule,
        RuleKind as RuleKind,
        Source as Source,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockpipe.plans' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
