"""`mockpipe serve`'s module: the web stack loads in its handler only, and its options match the store's."""

from __future__ import annotations

import subprocess
import sys

from mockpipe.cli import build_parser
from mockpipe.cli.serve import STORE_SYNC
from mockpipe.journal.store import SYNCHRONOUS


def test_building_the_parser_loads_no_web_stack() -> None:
    # What `mockpipe validate` (or any command but serve and bench) pays before it runs.
    probe = (
        "from mockpipe.cli import build_parser\n"
        "build_parser().parse_args(['serve'])\n"
        "import sys\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert set(result.stdout.split()) & {"starlette", "hypercorn", "sqlite3"} == set()


def test_store_sync_choices_are_the_stores() -> None:
    assert STORE_SYNC == SYNCHRONOUS
    args = build_parser().parse_args(["serve", "--store", "x.db", "--record", "r.jsonl", "--forward", "http://h"])
    assert (args.store, args.store_sync, args.record, args.forward, args.forward_key) == (
        "x.db",
        "normal",
        "r.jsonl",
        "http://h",
        None,
    )
