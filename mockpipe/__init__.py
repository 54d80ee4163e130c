"""mockpipe: a local emulator and test-fixture kit for the Customer.io Data Pipelines HTTP API."""

import importlib
from typing import TYPE_CHECKING, Any

from mockpipe import _moved
from mockpipe.errors import (
    CallAssertionError as CallAssertionError,
    JournalWriteError as JournalWriteError,
    MockpipeError as MockpipeError,
    ServerError as ServerError,
    UnknownRuleError as UnknownRuleError,
)
from mockpipe.version import __version__ as __version__

_moved.install()  # old import paths (`mockpipe.validation`, ...) keep working for one release

# Every other public name loads on first use, from the module that defines it: `import mockpipe` costs
# nothing that a command does not use (`mockpipe validate` loads neither the journal, with asyncio,
# nor the web stack: Starlette and Hypercorn alone are about 0.2 s).
_LAZY = {
    **dict.fromkeys(("Contract", "ContractDiff", "diff_plans"), "mockpipe.contracts"),  # jsonschema-rs, PyYAML
    "ServerConfig": "mockpipe.emulator.config",
    **dict.fromkeys(
        ("Call", "CallQuery", "Journal", "RequestQuery", "RequestRecord", "SourceStatus", "WaitResult"),
        "mockpipe.journal",
    ),
    **dict.fromkeys(("AmbiguousIdError", "GroupObject", "People", "Person"), "mockpipe.people"),
    **dict.fromkeys(("REJECTIONS", "RULES", "Rejection", "Rule", "Violation"), "mockpipe.spec.rules"),
    "validate": "mockpipe.spec.validator",
    "MockPipeServer": "mockpipe.emulator.server",  # Hypercorn and Starlette
    "create_app": "mockpipe.emulator.app",  # Starlette
    "Emulator": "mockpipe.emulator.emulator",
    "FaultError": "mockpipe.emulator.fault_specs",
    "StoreError": "mockpipe.journal.store",  # sqlite3
    **dict.fromkeys(("Plan", "PlanError", "load_plan"), "mockpipe.plans"),  # jsonschema-rs, PyYAML
    "PlanRegistry": "mockpipe.plans.registry",
}

if TYPE_CHECKING:
    from mockpipe.contracts import Contract as Contract, ContractDiff as ContractDiff, diff_plans as diff_plans
    from mockpipe.emulator.app import create_app as create_app
    from mockpipe.emulator.config import ServerConfig as ServerConfig
    from mockpipe.emulator.emulator import Emulator as Emulator
    from mockpipe.emulator.fault_specs import FaultError as FaultError
    from mockpipe.emulator.server import MockPipeServer as MockPipeServer
    from mockpipe.journal import (
        Call as Call,
        CallQuery as CallQuery,
        Journal as Journal,
        RequestQuery as RequestQuery,
        RequestRecord as RequestRecord,
        SourceStatus as SourceStatus,
        WaitResult as WaitResult,
    )
    from mockpipe.journal.store import StoreError as StoreError
    from mockpipe.people import (
        AmbiguousIdError as AmbiguousIdError,
        GroupObject as GroupObject,
        People as People,
        Person as Person,
    )
    from mockpipe.plans import Plan as Plan, PlanError as PlanError, load_plan as load_plan
    from mockpipe.plans.registry import PlanRegistry as PlanRegistry
    from mockpipe.spec.rules import (
        REJECTIONS as REJECTIONS,
        RULES as RULES,
        Rejection as Rejection,
        Rule as Rule,
        Violation as Violation,
    )
    from mockpipe.spec.validator import validate as validate


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockpipe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "REJECTIONS",
    "RULES",
    "AmbiguousIdError",
    "Call",
    "CallAssertionError",
    "CallQuery",
    "Contract",
    "ContractDiff",
    "Emulator",
    "FaultError",
    "GroupObject",
    "Journal",
    "JournalWriteError",
    "MockPipeServer",
    "MockpipeError",
    "People",
    "Person",
    "Plan",
    "PlanError",
    "PlanRegistry",
    "Rejection",
    "RequestQuery",
    "RequestRecord",
    "Rule",
    "ServerConfig",
    "ServerError",
    "SourceStatus",
    "StoreError",
    "UnknownRuleError",
    "Violation",
    "WaitResult",
    "__version__",
    "create_app",
    "diff_plans",
    "load_plan",
    "validate",
]
