"""The journal: every request received and every call cut out of them, packed in memory, queried,
waited on, and optionally kept in an SQLite store.

records (Call, RequestRecord: one definition each), packed (the rows in memory), journal (recording,
clearing, listeners), reading (queries and waits over it), queries, partitions (per write key),
waits, store (the SQLite file), store_check (is a file a store, asked before writing to it) and schema
(its tables, from the record fields).
"""

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
