"""`MockPipe`: what the `mockpipe` fixture hands a test. One write key on a running server.

Every test gets a fresh write key, and the journal is partitioned by key, so tests sharing one
server see only their own calls, with no reset between them and in any order. Queries return the
enriched payloads (plain dicts: what snapshots and `==` compare well); `records()` returns the
journal's `Call` records with their verdicts. Waits and assertions block on the journal's condition
until the next call lands, never in a sleep loop. `person(id)` and `object(id)` show what the
service would make of the test's calls (`mockpipe.person("u1").traits`), on its own write key.

This module needs no pytest: a unittest case or a script can build `MockPipe(server)` itself.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from mockpipe.errors import CallAssertionError
from mockpipe.journal.journal import CallQuery, RequestQuery
from mockpipe.people.model import DEFAULT_OBJECT_TYPE_ID
from mockpipe.testing.assertions import (
    Expectation,
    await_expectation,
    describe_calls,
    format_violations,
    violations_of,
)
from pytest_mockpipe.options import DEFAULT_GRACE, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.emulator.faults import FaultRule
    from mockpipe.emulator.server import MockPipeServer
    from mockpipe.journal.journal import Call, Journal, RequestRecord, SourceStatus
    from mockpipe.people.model import GroupObject, Person
    from mockpipe.spec.rules import Violation
    from mockpipe.types import JSONObject


def new_write_key() -> str:
    """A fresh write key: `mockpipe_` and 16 hex digits (the snapshot extension knows the shape)."""
    return f"mockpipe_{uuid.uuid4().hex[:16]}"


class MockPipe:
    """One test's view of an emulator: its own write key, the calls sent with it, and assertions on them.

    :param server: a running `MockPipeServer`.
    :param write_key: the key to use; a fresh one by default. A given key's calls are cleared first.
    :param timeout: how long assertions and `wait_for` wait by default, in seconds.
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
        """The journal's records of this test's calls, oldest first (filters as `calls`)."""
        return self.journal.calls(self._query(filters))

    def calls(self, **filters: Any) -> list[JSONObject]:
        """The enriched payloads of this test's calls, oldest first: plain dicts, ready for `==` and snapshots.

        Filters: `type`, `event`, `name`, `user_id`, `anonymous_id`, `message_id`, `valid`, `accepted`,
        `duplicates` (resends of a messageId are hidden unless True), `after`, `limit`.
        """
        return [call.payload for call in self.records(**filters)]

    def requests(self) -> list[RequestRecord]:
        """The HTTP requests made with this write key (accepted or not), oldest first."""
        return self.journal.requests(RequestQuery(write_key=self.write_key))

    def source_status(self) -> SourceStatus:
        """The "test connection" status of this write key: connected once a call was accepted."""
        return self.journal.source(self.write_key)

    def clear(self) -> int:
        """Forget this key's calls and requests; returns how many calls went."""
        return self.journal.clear(self.write_key)

    @property
    def violations(self) -> list[Violation]:
        """Every rule this test's traffic broke, errors and warnings (paths point into
        `{"calls": mockpipe.calls(), "requests": ...}`). Reading it tells the teardown check that the
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
        that arrived: after an asynchronous SDK's flush, `wait_for` them first."""
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

    def wait_for(self, count: int = 1, timeout: float | None = None, **filters: Any) -> list[JSONObject]:
        """Block until at least `count` calls match `filters`; returns their payloads.

        Raises `CallAssertionError` (an AssertionError) if they do not all arrive within `timeout`.
        """
        __tracebackhide__ = True
        wait = self.timeout if timeout is None else timeout
        result = self.journal.wait_for(count, wait, self._query(filters))
        if result.timed_out:
            wanted = ", ".join(f"{key}={value!r}" for key, value in filters.items())
            lines = [
                f"waited {wait:g} s for {count} call(s){' with ' + wanted if wanted else ''}, "
                f"{len(result.calls)} arrived"
            ]
            lines.extend("  " + line for line in describe_calls(self.calls()))
            raise CallAssertionError("\n".join(lines))
        return [call.payload for call in result.calls]

    # -- assertions ----------------------------------------------------------------------------

    def assert_call(
        self,
        call_type: str,
        fields: Mapping[str, Any] | None = None,
        *,
        count: int | None = None,
        timeout: float | None = None,
    ) -> list[JSONObject]:
        """Assert that a call of `call_type` whose payload contains `fields` arrives (exactly `count`
        of them if given); waits up to `timeout` (with `count=0`: watches for the grace period).
        Returns the matching payloads, oldest first.

        Dicts match as subsets at any depth; `None` expects a field absent or null. Raises
        `CallAssertionError` naming what was expected and how the closest calls differ.
        """
        __tracebackhide__ = True
        expectation = Expectation(type=call_type, fields=dict(fields or {}), count=count)
        if timeout is None:
            timeout = self.grace if count == 0 else self.timeout
        return await_expectation(self.journal, self.write_key, expectation, timeout=timeout)

    def assert_tracked(
        self,
        event: str,
        *,
        user_id: Any = None,
        anonymous_id: Any = None,
        properties: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        count: int | None = None,
        timeout: float | None = None,
    ) -> list[JSONObject]:
        """A track call of `event` (with these ids, and properties/context containing those given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "track",
            _fields(event=event, userId=user_id, anonymousId=anonymous_id, properties=properties, context=context),
            count=count,
            timeout=timeout,
        )

    def assert_identified(
        self,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        traits: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        count: int | None = None,
        timeout: float | None = None,
    ) -> list[JSONObject]:
        """An identify call (of `user_id` if given, with traits containing those given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "identify",
            _fields(userId=user_id, anonymousId=anonymous_id, traits=traits, context=context),
            count=count,
            timeout=timeout,
        )

    def assert_paged(
        self,
        name: str | None = None,
        *,
        user_id: Any = None,
        anonymous_id: Any = None,
        category: str | None = None,
        properties: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        count: int | None = None,
        timeout: float | None = None,
    ) -> list[JSONObject]:
        """A page call (named `name` if given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "page",
            _fields(
                name=name,
                userId=user_id,
                anonymousId=anonymous_id,
                category=category,
                properties=properties,
                context=context,
            ),
            count=count,
            timeout=timeout,
        )

    def assert_screened(
        self,
        name: str | None = None,
        *,
        user_id: Any = None,
        anonymous_id: Any = None,
        category: str | None = None,
        properties: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        count: int | None = None,
        timeout: float | None = None,
    ) -> list[JSONObject]:
        """A screen call (named `name` if given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "screen",
            _fields(
                name=name,
                userId=user_id,
                anonymousId=anonymous_id,
                category=category,
                properties=properties,
                context=context,
            ),
            count=count,
            timeout=timeout,
        )

    def assert_grouped(
        self,
        group_id: Any = None,
        *,
        user_id: Any = None,
        anonymous_id: Any = None,
        traits: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        count: int | None = None,
        timeout: float | None = None,
    ) -> list[JSONObject]:
        """A group call (of `group_id` if given, with traits containing those given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "group",
            _fields(groupId=group_id, userId=user_id, anonymousId=anonymous_id, traits=traits, context=context),
            count=count,
            timeout=timeout,
        )

    def assert_aliased(
        self,
        user_id: Any = None,
        *,
        previous_id: Any = None,
        context: Mapping[str, Any] | None = None,
        count: int | None = None,
        timeout: float | None = None,
    ) -> list[JSONObject]:
        """An alias call (merging `previous_id` into `user_id`, when given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "alias", _fields(userId=user_id, previousId=previous_id, context=context), count=count, timeout=timeout
        )

    def assert_no_calls(self, *, timeout: float | None = None, **filters: Any) -> None:
        """Assert that no call (matching `filters`, as for `calls`) arrives within the grace period
        (ini `mockpipe_grace`, or `timeout`). Fails as soon as one lands."""
        __tracebackhide__ = True
        wait = self.grace if timeout is None else timeout
        result = self.journal.wait_for(1, wait, self._query(filters))
        if result.calls:
            wanted = ", ".join(f"{key}={value!r}" for key, value in filters.items())
            calls = self.calls(**filters)
            lines = [f"expected no calls{' with ' + wanted if wanted else ''}, but {len(calls)} arrived:"]
            lines.extend("  " + line for line in describe_calls(calls))
            raise CallAssertionError("\n".join(lines))

    def check(self) -> None:
        """Raise `CallAssertionError` listing each error-severity violation of this test's traffic so far."""
        __tracebackhide__ = True
        errors = [v for v in self.peek_violations() if v.is_error]
        if errors:
            raise CallAssertionError(violations_message(self, errors))


def violations_message(pipe: MockPipe, errors: list[Violation]) -> str:
    lines = [
        f"mockpipe: the calls sent with write key {pipe.write_key!r} broke the spec "
        f"({len(errors)} error{'s' if len(errors) != 1 else ''}):"
    ]
    lines.extend("  " + line for line in format_violations(errors))
    lines.append("Mark the test @pytest.mark.mockpipe(allow_invalid=True) if it sends them on purpose.")
    return "\n".join(lines)


def _fields(**given: Any) -> dict[str, Any]:
    """The payload fields an assertion asks for: those given (None means any)."""
    return {key: value for key, value in given.items() if value is not None}
