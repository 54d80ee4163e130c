"""The `assert_*` methods of the `mockpipe` fixture: one call of a type, with the fields given.

`CallAssertions` is a mixin of `MockPipe` (pytest_mockpipe.fixture): it needs the view's journal, write key
and default waits, and nothing else, so the fixture module keeps the queries, waits and faults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockpipe.testing.assertions import Expectation, await_expectation

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockpipe.journal.journal import Journal
    from mockpipe.types import JSONObject


class CallAssertions:
    """Waiting assertions on one write key's calls; each returns the matching payloads, oldest first."""

    journal: Journal
    write_key: str
    timeout: float  # how long an assertion waits by default, in seconds
    grace: float  # how long `count=0` watches for late calls by default, in seconds
    since: int  # the newest call id when the test began: a failure looks after it for other keys' calls

    def assert_call(
        self,
        call_type: str,
        fields: Mapping[str, Any] | None = None,
        *,
        count: int | None = None,
        timeout: float | None = None,
        accepted: bool | None = True,
    ) -> list[JSONObject]:
        """Assert that a call of `call_type` whose payload contains `fields` arrives (exactly `count`
        of them if given); waits up to `timeout` (with `count=0`: watches for the grace period).
        Returns the matching payloads, oldest first.

        Only calls the server accepted count (`accepted=True`): a call refused with its request (a
        strict server's 400) never reached the service. `accepted=False` asserts on refused calls,
        `None` on either. A failure names the matching calls that were refused, and why.

        Dicts match as subsets at any depth; `None` expects a field absent or null. Raises
        `CallAssertionError` naming what was expected and how the closest calls differ.
        """
        __tracebackhide__ = True
        expectation = Expectation(type=call_type, fields=dict(fields or {}), count=count, accepted=accepted)
        if timeout is None:
            timeout = self.grace if count == 0 else self.timeout
        return await_expectation(self.journal, self.write_key, expectation, timeout=timeout, since=self.since)

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
        accepted: bool | None = True,
    ) -> list[JSONObject]:
        """A track call of `event` (with these ids, and properties/context containing those given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "track",
            _fields(event=event, userId=user_id, anonymousId=anonymous_id, properties=properties, context=context),
            count=count,
            timeout=timeout,
            accepted=accepted,
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
        accepted: bool | None = True,
    ) -> list[JSONObject]:
        """An identify call (of `user_id` if given, with traits containing those given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "identify",
            _fields(userId=user_id, anonymousId=anonymous_id, traits=traits, context=context),
            count=count,
            timeout=timeout,
            accepted=accepted,
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
        accepted: bool | None = True,
    ) -> list[JSONObject]:
        """A page call (named `name` if given)."""
        __tracebackhide__ = True
        fields = _view_fields(name, user_id, anonymous_id, category, properties, context)
        return self.assert_call("page", fields, count=count, timeout=timeout, accepted=accepted)

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
        accepted: bool | None = True,
    ) -> list[JSONObject]:
        """A screen call (named `name` if given)."""
        __tracebackhide__ = True
        fields = _view_fields(name, user_id, anonymous_id, category, properties, context)
        return self.assert_call("screen", fields, count=count, timeout=timeout, accepted=accepted)

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
        accepted: bool | None = True,
    ) -> list[JSONObject]:
        """A group call (of `group_id` if given, with traits containing those given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "group",
            _fields(groupId=group_id, userId=user_id, anonymousId=anonymous_id, traits=traits, context=context),
            count=count,
            timeout=timeout,
            accepted=accepted,
        )

    def assert_aliased(
        self,
        user_id: Any = None,
        *,
        previous_id: Any = None,
        context: Mapping[str, Any] | None = None,
        count: int | None = None,
        timeout: float | None = None,
        accepted: bool | None = True,
    ) -> list[JSONObject]:
        """An alias call (merging `previous_id` into `user_id`, when given)."""
        __tracebackhide__ = True
        return self.assert_call(
            "alias",
            _fields(userId=user_id, previousId=previous_id, context=context),
            count=count,
            timeout=timeout,
            accepted=accepted,
        )


def _view_fields(
    name: str | None,
    user_id: Any,
    anonymous_id: Any,
    category: str | None,
    properties: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The fields a page or a screen call is matched on (they carry the same ones)."""
    return _fields(
        name=name, userId=user_id, anonymousId=anonymous_id, category=category, properties=properties, context=context
    )


def _fields(**given: Any) -> dict[str, Any]:
    """The payload fields an assertion asks for: those given (None means any)."""
    return {key: value for key, value in given.items() if value is not None}
