"""`MockPipe`: what the `mockpipe` fixture hands a test. One write key on a running server.

Every test gets a fresh write key, and the journal is partitioned by key, so tests sharing one server
see only their own calls, with no reset between them and in any order. The names are those of the
journal and the server: `payloads()` returns the enriched payloads (plain dicts: what snapshots and `==`
compare well), `records()` the journal's `Call` records with their verdicts, `source()` the key's "test
connection" status; `expect()`, like the `assert_*` methods, raises on time-out. `calls()`, `wait_for()`
(raising) and `source_status()` are the deprecated names of one release. Waits and assertions block on
the journal's condition until the next call lands, never in a sleep loop. `person(id)` and `object(id)`
show what the service would make of the test's calls (`mockpipe.person("u1").traits`), on its own write
key.

This module needs no pytest: a unittest case or a script can build `MockPipe(server)` itself.
"""

from __future__ import annotations

import uuid
import warnings
from typing import TYPE_CHECKING, Any, Literal, overload

from mockpipe.errors import CallAssertionError
from mockpipe.journal.journal import CallQuery, RequestQuery
from mockpipe.people.model import DEFAULT_OBJECT_TYPE_ID
from mockpipe.testing.assertions import describe_calls, format_violations, violations_of
from mockpipe.testing.explanation import excluded_lines, last_call_id, other_keys, verdict_entries
from pytest_mockpipe.call_assertions import CallAssertions
from pytest_mockpipe.options import DEFAULT_GRACE, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.emulator.faults import FaultRule
    from mockpipe.emulator.server import MockPipeServer
    from mockpipe.journal.journal import Call, Journal, RequestRecord, SourceStatus, WaitResult
    from mockpipe.people.model import GroupObject, Person
    from mockpipe.spec.rules import Violation
    from mockpipe.testing.explanation import OtherKey
    from mockpipe.types import JSONObject


def new_write_key() -> str:
    """A fresh write key: `mockpipe_` and 16 hex digits (the snapshot extension knows the shape)."""
    return f"mockpipe_{uuid.uuid4().hex[:16]}"


class MockPipe(CallAssertions):
    """One test's view of an emulator: its own write key, the calls sent with it, and assertions on them.

    :param server: a running `MockPipeServer`.
    :param write_key: the key to use; a fresh one by default. A given key's calls are cleared first.
    :param timeout: how long assertions and `expect` wait by default, in seconds.
    :param grace: how long `assert_no_calls` watches for late calls by default, in seconds.
    """

    def __init__(
        self,
        server: MockPipeServer,
        *,
        write_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        grace: float = DEFAULT_GRACE,
    ) -> None:
        self.server = server
        self.journal: Journal = server.journal
        if write_key is None:
            write_key = new_write_key()
        else:
            server.clear(write_key)
        self.write_key = write_key
        self.since = last_call_id(self.journal)  # other keys' calls after it are named when none arrive here
        self.timeout = timeout
        self.grace = grace
        self.violations_inspected = False
        self.derived: list[MockPipe] = []  # views made by `using`, checked with this one

    def __repr__(self) -> str:
        return f"<MockPipe {self.url} write_key={self.write_key!r}>"

    @property
    def url(self) -> str:
        """The server's base URL, which SDKs take as their host (e.g. `http://127.0.0.1:54321`)."""
        return self.server.url

    def using(self, server: MockPipeServer, *, write_key: str | None = None) -> MockPipe:
        """The same view on another server (from `make_mockpipe_server`), checked at teardown like this one."""
        view = type(self)(server, write_key=write_key, timeout=self.timeout, grace=self.grace)
        self.derived.append(view)
        return view

    # -- what arrived --------------------------------------------------------------------------

    def _query(self, filters: Mapping[str, Any]) -> CallQuery:
        if "write_key" in filters:
            raise TypeError("the write key is the fixture's own; use mockpipe.using(server, write_key=...)")
        try:
            return CallQuery(write_key=self.write_key, **filters)
        except TypeError:
            raise TypeError(
                f"unknown call filter in {sorted(filters)}; known: type, event, name, user_id, "
                "anonymous_id, message_id, valid, accepted, duplicates, after, limit"
            ) from None

    def records(self, **filters: Any) -> list[Call]:
        """The journal's records of this test's calls, oldest first (filters as `payloads`)."""
        return self.journal.calls(self._query(filters))

    def payloads(self, **filters: Any) -> list[JSONObject]:
        """The enriched payloads of this test's calls, oldest first: plain dicts, ready for `==` and snapshots.

        Filters: `type`, `event`, `name`, `user_id`, `anonymous_id`, `message_id`, `valid`, `accepted`,
        `duplicates` (resends of a messageId are hidden unless True), `after`, `limit`.
        """
        return [call.payload for call in self.records(**filters)]

    def calls(self, **filters: Any) -> list[JSONObject]:
        """Deprecated: `payloads()`, under the name that returns records on the journal and the server."""
        _deprecated("calls()", "use payloads(), which returns the same payloads")
        return self.payloads(**filters)

    def requests(self) -> list[RequestRecord]:
        """The HTTP requests made with this write key (accepted or not), oldest first."""
        return self.journal.requests(RequestQuery(write_key=self.write_key))

    def source(self) -> SourceStatus:
        """The "test connection" status of this write key: connected once a call was accepted."""
        return self.journal.source(self.write_key)

    def source_status(self) -> SourceStatus:
        """Deprecated: `source()`, the name the journal and the server use."""
        _deprecated("source_status()", "use source()")
        return self.source()

    def clear(self) -> int:
        """Forget this key's calls and requests; returns how many calls went."""
        return self.journal.clear(self.write_key)

    @property
    def violations(self) -> list[Violation]:
        """Every rule this test's traffic broke, errors and warnings (paths point into
        `{"calls": mockpipe.payloads(), "requests": ...}`). Reading it tells the teardown check that the
        test looked at its violations itself, so invalid calls no longer fail it."""
        self.violations_inspected = True
        return self.peek_violations()

    def peek_violations(self) -> list[Violation]:
        """`violations`, without telling the teardown check that the test looked at them."""
        return violations_of(self.records(), self.requests())

    # -- people and objects --------------------------------------------------------------------

    def person(self, person_id: str) -> Person | None:
        """The person this test's calls made, found by userId, anonymousId, aliased id or any email seen in
        their traits (`mockpipe.person("u1").traits`); None if there is none. A snapshot of the calls
        that arrived: after an asynchronous SDK's flush, `expect` them first."""
        return self.server.person(person_id, write_key=self.write_key)

    def object(self, object_id: str, *, type_id: str = DEFAULT_OBJECT_TYPE_ID) -> GroupObject | None:
        """The object (group) `object_id` of type `type_id` ("1" by default) as this test's calls made it,
        with its traits and related people; None if there is none."""
        return self.server.people.object(object_id, type_id, write_key=self.write_key)

    # -- faults --------------------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        retry_after: int | str | None = None,
        delay_ms: int = 0,
        body: bytes | str | JSONObject | None = None,
    ) -> FaultRule:
        """Answer `status` (503 by default, with `Retry-After` if given) to the next `count` requests made
        with this test's write key, instead of taking their calls. The SDK's resend of the same messageIds
        is then one call whose `journal.attempts(call.id)` counts the failed tries (see `mockpipe.emulator.faults`)."""
        return self.server.faults.fail_next(
            count, status=status, retry_after=retry_after, delay_ms=delay_ms, body=body, write_key=self.write_key
        )

    def fail_all(
        self,
        *,
        status: int = 503,
        retry_after: int | str | None = None,
        fraction: float | None = None,
        seed: int | None = None,
        delay_ms: int = 0,
        body: bytes | str | JSONObject | None = None,
    ) -> FaultRule:
        """Answer `status` to every request of this test (or a `fraction` of them, drawn with `seed`)."""
        return self.server.faults.fail_all(
            status=status,
            retry_after=retry_after,
            fraction=fraction,
            seed=seed,
            delay_ms=delay_ms,
            body=body,
            write_key=self.write_key,
        )

    def drop_next(self, count: int = 1, *, delay_ms: int = 0) -> FaultRule:
        """Close the connection of the next `count` requests without answering (the SDK sees a network error)."""
        return self.server.faults.drop_next(count, delay_ms=delay_ms, write_key=self.write_key)

    def delay(self, delay_ms: int, *, count: int | None = None) -> FaultRule:
        """Answer every request of this test (or the next `count`) as usual, `delay_ms` milliseconds late."""
        return self.server.faults.delay(delay_ms, count=count, write_key=self.write_key)

    def clear_faults(self) -> int:
        """Remove this test's fault rules (done after each test); returns how many went."""
        return self.server.faults.clear(self.write_key)

    # -- waiting -------------------------------------------------------------------------------

    def expect(
        self, count: int = 1, *, timeout: float | None = None, accepted: bool | None = True, **filters: Any
    ) -> list[JSONObject]:
        """Block until at least `count` calls match `filters` (as for `payloads`); returns their payloads.

        Only accepted calls count unless `accepted` says otherwise (False: refused ones, None: either).
        Raises `CallAssertionError` (an AssertionError) if they do not all arrive within `timeout`
        (the fixture's default, ini `mockpipe_timeout`), listing the calls that did, the matching calls
        that were refused, and, when none arrived, the other write keys that received calls.
        """
        __tracebackhide__ = True
        wait = self.timeout if timeout is None else timeout
        result = self.journal.wait_for(count, wait, self._query({**filters, "accepted": accepted}))
        if result.timed_out:
            wanted = ", ".join(f"{key}={value!r}" for key, value in filters.items())
            lines = [
                f"waited {wait:g} s for {count} call(s){' with ' + wanted if wanted else ''}, "
                f"{len(result.calls)} arrived"
            ]
            lines.extend("  " + line for line in describe_calls(self.payloads()))
            lines.extend(self._other_verdicts(accepted, filters))
            if not result.calls and not self.records():
                lines.extend(_other_key_lines(other_keys(self.journal, self.write_key, self.since)))
            raise CallAssertionError("\n".join(lines))
        return [call.payload for call in result.calls]

    def _other_verdicts(self, accepted: bool | None, filters: Mapping[str, Any]) -> list[str]:
        """The lines naming the calls that match `filters` but carry the verdict `accepted` does not count."""
        if accepted is None:
            return []
        calls = self.records()
        other = {call.id for call in self.records(**filters, accepted=not accepted)}
        positions = [i for i, call in enumerate(calls) if call.id in other]
        entries = verdict_entries(calls, positions, [call.payload for call in calls], self.requests())
        return excluded_lines(accepted, entries)

    @overload
    def wait_for(
        self, count: int = ..., timeout: float | None = ..., *, raises: Literal[True] = ..., **filters: Any
    ) -> list[JSONObject]: ...

    @overload
    def wait_for(
        self, count: int = ..., timeout: float | None = ..., *, raises: Literal[False], **filters: Any
    ) -> WaitResult: ...

    def wait_for(
        self, count: int = 1, timeout: float | None = None, *, raises: bool = True, **filters: Any
    ) -> list[JSONObject] | WaitResult:
        """With `raises=False`: the journal's `wait_for`, on this test's key. Block until `count` calls
        match `filters` or `timeout` passes, and return the `WaitResult` (`calls` records, `timed_out`);
        never raises on time-out.

        Deprecated without it: raises `CallAssertionError` on time-out and returns the payloads, which is
        `expect()` (the fixture's `wait_for` will not raise, as on the journal and the server).
        """
        __tracebackhide__ = True
        if not raises:
            return self.journal.wait_for(count, self.timeout if timeout is None else timeout, self._query(filters))
        _deprecated("wait_for()", "use expect(), which raises on time-out, or wait_for(..., raises=False)")
        return self.expect(count, timeout=timeout, **filters)

    # -- assertions ----------------------------------------------------------------------------

    def assert_no_calls(self, *, timeout: float | None = None, accepted: bool | None = True, **filters: Any) -> None:
        """Assert that no call (matching `filters`, as for `payloads`; accepted ones unless `accepted` says
        otherwise) arrives within the grace period (ini `mockpipe_grace`, or `timeout`). Fails as soon as one lands."""
        __tracebackhide__ = True
        wait = self.grace if timeout is None else timeout
        filters = {**filters, "accepted": accepted}
        result = self.journal.wait_for(1, wait, self._query(filters))
        if result.calls:
            # The default verdict goes unsaid.
            wanted = ", ".join(
                f"{key}={value!r}" for key, value in filters.items() if (key, value) != ("accepted", True)
            )
            payloads = self.payloads(**filters)
            lines = [f"expected no calls{' with ' + wanted if wanted else ''}, but {len(payloads)} arrived:"]
            lines.extend("  " + line for line in describe_calls(payloads))
            raise CallAssertionError("\n".join(lines))

    def check(self) -> None:
        """Raise `CallAssertionError` listing each error-severity violation of this test's traffic so far."""
        __tracebackhide__ = True
        errors = [v for v in self.peek_violations() if v.is_error]
        if errors:
            raise CallAssertionError(violations_message(self, errors))


def violations_message(pipe: MockPipe, errors: list[Violation]) -> str:
    broke = "the spec"
    if any(v.plan for v in errors):  # a plan violation carries the plan rule it came from
        broke = "the tracking plan" if all(v.plan for v in errors) else "the spec and the tracking plan"
    lines = [
        f"mockpipe: the calls sent with write key {pipe.write_key!r} broke {broke} "
        f"({len(errors)} error{'s' if len(errors) != 1 else ''}):"
    ]
    lines.extend("  " + line for line in format_violations(errors))
    lines.append("Mark the test @pytest.mark.mockpipe(allow_invalid=True) if it sends them on purpose.")
    return "\n".join(lines)


def _other_key_lines(others: list[OtherKey]) -> list[str]:
    if not others:
        return []
    lines = ["Calls did arrive with other write keys:"]
    lines.extend(f"  {key.write_key!r}: {key.calls} call(s) ({', '.join(key.events)})" for key in others)
    return lines


def _deprecated(name: str, instead: str) -> None:
    # stacklevel 3: the test's line, past this helper and the deprecated method
    warnings.warn(f"MockPipe.{name} is deprecated: {instead}", DeprecationWarning, stacklevel=3)
