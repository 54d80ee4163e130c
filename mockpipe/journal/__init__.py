"""The journal: every request received and every call cut out of them, packed in memory, queried,
waited on, and optionally kept in an SQLite store (`mockpipe.journal.store`)."""

from mockpipe.journal.journal import (
    DEFAULT_WAIT_TIMEOUT as DEFAULT_WAIT_TIMEOUT,
    CallQuery as CallQuery,
    Journal as Journal,
    RequestQuery as RequestQuery,
    SourceStatus as SourceStatus,
    WaitResult as WaitResult,
)
from mockpipe.journal.records import Call as Call, RequestRecord as RequestRecord

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "Call",
    "CallQuery",
    "Journal",
    "RequestQuery",
    "RequestRecord",
    "SourceStatus",
    "WaitResult",
]
