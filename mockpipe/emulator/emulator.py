"""The one place an emulator is assembled: its settings, journal, fault rules, people model and live feed,
and, on request, the SQLite store that keeps the journal, the recording and the forwarding of its calls.

`create_app`, `MockPipeServer` and `mockpipe serve` all build theirs with `Emulator.build`; the ASGI app
holds it as `EmulatorApp.emulator`. No web code here: the store, recorder and forwarder load only when
asked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockpipe.emulator.config import ServerConfig
from mockpipe.emulator.faults import Faults
from mockpipe.emulator.live_feed import LiveFeed
from mockpipe.journal.journal import Journal
from mockpipe.people.model import People
from mockpipe.plans.registry import DEFAULT_POLL_SECONDS, PlanRegistry

if TYPE_CHECKING:
    from collections.abc import Callable

    from mockpipe.journal.store import Store
    from mockpipe.plans.model import Plan
    from mockpipe.relay.forward import Forwarder
    from mockpipe.relay.recording import Recorder

FORWARD_CLOSE_SECONDS = 5.0  # how long a stopping emulator keeps trying to deliver what is pending
StrPath = str | os.PathLike[str]


@dataclass(eq=False, kw_only=True)
class Emulator:
    """The parts of one emulator. Build it with `Emulator.build`; end it with `close()`.

    `notes` are lines worth telling when it starts (what the store restored, where calls are recorded
    or forwarded, what an earlier run left pending); `close()` returns those worth telling at the end.
    """

    config: ServerConfig
    journal: Journal
    faults: Faults
    people: People
    live: LiveFeed  # the web UI's event streams, ended by `begin_shutdown`
    plans: PlanRegistry = field(default_factory=PlanRegistry)  # the tracking plans in force, and their coverage
    plan_reload: float | None = None  # seconds between checks of a plan read from disk for changes (None: never)
    store: Store | None = None
    recorder: Recorder | None = None
    forwarder: Forwarder | None = None
    restored: int = 0  # calls the store had kept from an earlier run
    notes: list[str] = field(default_factory=list)
    closed: bool = False

    @classmethod
    def build(
        cls,
        config: ServerConfig | None = None,
        *,
        journal: Journal | None = None,
        store: StrPath | None = None,
        store_sync: str = "normal",
        record: StrPath | None = None,
        forward: str | None = None,
        forward_key: str | None = None,
        restore_progress: Callable[[int, int], None] | None = None,
        plan: StrPath | Plan | None = None,
        plan_format: str | None = None,
        plan_reload: float | None = DEFAULT_POLL_SECONDS,
    ) -> Emulator:
        """An emulator answering as `config` says (defaults: `ServerConfig()`).

        `journal`: the journal to fill (default: a new one, bounded by `config.max_calls`).
        `store`: an SQLite file that keeps the journal across restarts (reloaded here); `store_sync`:
        "normal" (an answered call survives the process being killed) or "full" (also an OS crash).
        `record`: a JSON-lines file every accepted call is appended to (a bare name goes into
        `recordings/`). `forward`: a Data Pipelines URL every accepted call is relayed to, with
        `forward_key` as write key (default: each call's own). `restore_progress(done, total)`: told how
        far the store's restore is, every few thousand calls.
        `plan`: a tracking plan every call is checked against (a file or folder in any importable
        format, `plan_format` forcing one, or a `Plan`); a plan read from disk is reloaded when its
        files change, checked every `plan_reload` seconds while the app runs (None: never).

        Raises TypeError for a journal and a store together, ValueError for a URL that is not http(s)
        or a `forward_key` without `forward`, `PlanError` for a plan that cannot be read, `StoreError`
        for an unusable store, OSError for an unwritable recording. Nothing stays open when it raises.
        """
        config = config if config is not None else ServerConfig()
        plans = PlanRegistry()
        plan_note = None
        if plan is not None:  # first: a plan that cannot be read opens nothing
            plan_note = _put_plan(plans, plan, plan_format)
        if journal is not None and store is not None:
            raise TypeError("pass either a journal or a store, not both")
        if forward is not None:
            from mockpipe.relay.delivery import batch_url

            batch_url(forward)  # fail before anything is opened
        elif forward_key is not None:
            raise ValueError("forward_key needs forward")
        parts = _Parts(journal if journal is not None else Journal(max_calls=config.max_calls))
        try:
            if store is not None:
                parts.open_store(store, store_sync, config.max_calls, restore_progress)
            if record is not None:
                parts.record(record)
            if forward is not None:
                parts.forward(forward, forward_key)
            parts.tell_pending()
        except BaseException:
            parts.close()
            raise
        # After the store reloaded the journal (the model replays it), and after the listeners that keep
        # and relay each call: the order they are told of a request.
        people = People.from_journal(parts.journal)
        live = LiveFeed(parts.journal)
        if plan_note is not None:
            parts.notes.append(plan_note)
        return cls(
            config=config,
            journal=parts.journal,
            faults=Faults(),
            people=people,
            live=live,
            plans=plans,
            plan_reload=plan_reload,
            store=parts.store,
            recorder=parts.recorder,
            forwarder=parts.forwarder,
            restored=parts.restored,
            notes=parts.notes,
        )

    @property
    def restartable(self) -> bool:
        """Whether it can serve again after `close()`: the store reopens by itself, a recording or a
        forwarding does not."""
        return not self.closed or (self.recorder is None and self.forwarder is None)

    def begin_shutdown(self) -> None:
        """End what would otherwise hang until the server cuts it (and logs a traceback): UI streams,
        long-polls, answers held by a delay fault (they go out now, as they would have).

        Call it on the app's event loop, just before triggering the server's shutdown."""
        self.live.close()
        self.journal.release_waiters()
        self.faults.release()

    def close(self) -> list[str]:
        """Finish forwarding (for a few seconds), close the recording and the store; returns the lines
        worth telling. The store reopens on the next write; the recording and forwarding end for good."""
        told = []
        if not self.closed:
            self.closed = True
            told = _finish(self.forwarder, self.recorder, self.store)
        if self.store is not None:
            self.store.close()
        return told


def _put_plan(plans: PlanRegistry, plan: StrPath | Plan, plan_format: str | None) -> str:
    """Put the default plan in force; returns the line telling it."""
    if isinstance(plan, (str, os.PathLike)):
        entry = plans.load(plan, format=plan_format)
        where = f"{entry.path} ({entry.plan.source.format})"
    else:
        entry = plans.set(plan, origin="python")
        where = plan.name or "a plan object"
    return f"tracking plan: {where}, {len(entry.plan.rules)} rule(s), {len(entry.plan.events)} event(s)"


class _Parts:
    """The optional parts while they are being opened, so that a failure closes what was opened."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.store: Store | None = None
        self.recorder: Recorder | None = None
        self.forwarder: Forwarder | None = None
        self.restored = 0
        self.notes: list[str] = []

    def open_store(
        self, path: StrPath, synchronous: str, max_calls: int | None, progress: Callable[[int, int], None] | None
    ) -> None:
        from mockpipe.journal.store import Store  # sqlite3 is imported only by those who use it

        self.store = Store(path, synchronous=synchronous)
        self.journal = self.store.open_journal(max_calls=max_calls, progress=progress)
        self.restored = len(self.journal)
        note = f"store: {path} ({self.restored} call(s) restored, synchronous={synchronous})"
        if self.journal.damaged_rows:
            note += f"; {self.journal.damaged_rows} damaged row(s) skipped (see the warnings above)"
        self.notes.append(note)

    def record(self, path: StrPath) -> None:
        from mockpipe.relay.recording import Recorder

        self.recorder = Recorder(path)
        self.journal.subscribe(self.recorder.write, durable=True)
        self.notes.append(f"recording accepted calls to {self.recorder.path}")

    def forward(self, url: str, write_key: str | None) -> None:
        from mockpipe.relay.forward import Forwarder

        self.forwarder = forwarder = Forwarder(url, write_key=write_key, store=self.store)
        forwarder.attach(self.journal)
        note = f"forwarding accepted calls to {forwarder.url}"
        if forwarder.resumed:
            note += f" ({forwarder.resumed} call(s) left pending by an earlier run, queued again)"
        self.notes.append(note)

    def tell_pending(self) -> None:
        """Note the calls an earlier run left pending for another destination than this one's."""
        if self.store is None:
            return
        from mockpipe.relay.delivery import masked_url

        for url, count in self.store.pending_forward_counts().items():
            if self.forwarder is None or url != self.forwarder.url:
                shown = masked_url(url)  # kept masked by this version; an older one may have kept a password
                self.notes.append(
                    f"{count} call(s) left pending for {shown}: start with --forward {shown} to send them"
                )

    def close(self) -> None:
        _finish(self.forwarder, self.recorder, self.store)
        if self.store is not None:
            self.store.close()


def _finish(forwarder: Forwarder | None, recorder: Recorder | None, store: Store | None) -> list[str]:
    """Let the forwarder deliver what it can, close the recording; returns what to tell of them."""
    told = []
    if forwarder is not None:
        left = forwarder.close(FORWARD_CLOSE_SECONDS)
        told.append(f"forwarded {forwarder.delivered} call(s), {forwarder.failed} failed, {left} left undelivered")
        if left and store is not None:
            told[-1] += " (kept pending in the store: sent at the next start with this --forward)"
    if recorder is not None:
        recorder.close()
        told.append(f"recorded {recorder.calls} call(s) to {recorder.path}")
    return told
