"""The offline-development options of `mockpipe serve`: --store, --record and --forward.

They build the journal (reloaded from the store) and the listeners that keep, record and relay
what it receives; `close()` lets them finish when the server stops.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from mockpipe.journal.journal import Journal
from mockpipe.journal.store import SYNCHRONOUS, Store
from mockpipe.relay.delivery import batch_url
from mockpipe.relay.forward import Forwarder
from mockpipe.relay.recording import Recorder

FORWARD_CLOSE_SECONDS = 5.0  # how long a stopping server keeps trying to deliver what is pending


def add_offline_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("offline development")
    group.add_argument(
        "--store",
        metavar="FILE",
        help="keep the journal in this SQLite file: it survives restarts and kill -9 (default: in memory)",
    )
    group.add_argument(
        "--store-sync",
        choices=SYNCHRONOUS,
        default="normal",
        help="normal: an answered call survives the process being killed; full: also an OS "
        "crash or power cut, with an fsync per request (default %(default)s)",
    )
    group.add_argument(
        "--record",
        metavar="FILE",
        help="append every accepted call to this JSON-lines file as it arrives (a bare file "
        "name goes into recordings/)",
    )
    group.add_argument(
        "--forward",
        metavar="URL",
        help="relay every accepted call to this Data Pipelines endpoint (the real service or "
        "another mockpipe), retrying 429 and 5xx; with --store, what a crash or a stop left "
        "undelivered is sent at the next start with the same --forward",
    )
    group.add_argument("--forward-key", metavar="KEY", help="write key for --forward (default: each call's own)")


@dataclass
class Offline:
    """The journal of `serve` and what keeps, records and forwards it."""

    journal: Journal
    store: Store | None = None
    recorder: Recorder | None = None
    forwarder: Forwarder | None = None
    restored: int = 0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, max_calls: int | None) -> Offline:
        """Raises ValueError for a bad URL, StoreError for an unusable store, OSError for an unwritable file."""
        store_path: str | None = getattr(args, "store", None)
        record_path: str | None = getattr(args, "record", None)
        forward_url: str | None = getattr(args, "forward", None)
        if forward_url is not None:
            batch_url(forward_url)  # fail before anything is opened
        elif getattr(args, "forward_key", None):
            raise ValueError("--forward-key needs --forward")
        offline = cls(Journal(max_calls=max_calls))
        try:
            if store_path is not None:
                offline.store = Store(store_path, synchronous=args.store_sync)
                offline.journal = offline.store.open_journal(max_calls=max_calls)
                offline.restored = len(offline.journal)
                offline.notes.append(
                    f"store: {store_path} ({offline.restored} call(s) restored, synchronous={args.store_sync})"
                )
            if record_path is not None:
                offline.recorder = Recorder(record_path)
                offline.journal.subscribe(offline.recorder.write, durable=True)
                offline.notes.append(f"recording accepted calls to {offline.recorder.path}")
            if forward_url is not None:
                offline.forwarder = forwarder = Forwarder(forward_url, write_key=args.forward_key, store=offline.store)
                forwarder.attach(offline.journal)
                note = f"forwarding accepted calls to {forwarder.url}"
                if forwarder.resumed:
                    note += f" ({forwarder.resumed} call(s) left pending by an earlier run, queued again)"
                offline.notes.append(note)
            if offline.store is not None:
                for url, count in offline.store.pending_forward_counts().items():
                    if offline.forwarder is None or url != offline.forwarder.url:
                        offline.notes.append(
                            f"{count} call(s) left pending for {url}: start with --forward {url} to send them"
                        )
        except BaseException:
            offline.close()
            raise
        return offline

    def close(self) -> list[str]:
        """Finish forwarding (for a few seconds), close the files; returns lines worth telling."""
        told = []
        if self.forwarder is not None:
            left = self.forwarder.close(FORWARD_CLOSE_SECONDS)
            forwarder = self.forwarder
            told.append(f"forwarded {forwarder.delivered} call(s), {forwarder.failed} failed, {left} left undelivered")
            if left and self.store is not None:
                told[-1] += " (kept pending in the store: sent at the next start with this --forward)"
        if self.recorder is not None:
            self.recorder.close()
            told.append(f"recorded {self.recorder.calls} call(s) to {self.recorder.path}")
        if self.store is not None:
            self.store.close()
        return told
