"""mockpipe: a local emulator and test-fixture kit for the Customer.io Data Pipelines HTTP API."""

from mockpipe.app import create_app as create_app
from mockpipe.config import ServerConfig as ServerConfig
from mockpipe.errors import (
    CallAssertionError as CallAssertionError,
    MockpipeError as MockpipeError,
    ServerError as ServerError,
    UnknownRuleError as UnknownRuleError,
)
from mockpipe.journal import (
    Call as Call,
    CallQuery as CallQuery,
    Journal as Journal,
    RequestQuery as RequestQuery,
    RequestRecord as RequestRecord,
    SourceStatus as SourceStatus,
    WaitResult as WaitResult,
)
from mockpipe.people import (
    AmbiguousIdError as AmbiguousIdError,
    GroupObject as GroupObject,
    People as People,
    Person as Person,
)
from mockpipe.rules import (
    REJECTIONS as REJECTIONS,
    RULES as RULES,
    Rejection as Rejection,
    Rule as Rule,
    Violation as Violation,
)
from mockpipe.server import MockPipeServer as MockPipeServer
from mockpipe.validation import validate as validate
from mockpipe.version import __version__ as __version__

__all__ = [
    "REJECTIONS",
    "RULES",
    "AmbiguousIdError",
    "Call",
    "CallAssertionError",
    "CallQuery",
    "GroupObject",
    "Journal",
    "MockPipeServer",
    "MockpipeError",
    "People",
    "Person",
    "Rejection",
    "RequestQuery",
    "RequestRecord",
    "Rule",
    "ServerConfig",
    "ServerError",
    "SourceStatus",
    "UnknownRuleError",
    "Violation",
    "WaitResult",
    "__version__",
    "create_app",
    "validate",
]
