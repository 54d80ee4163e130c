"""The README's contract and snapshot example: validate() offline, and a reviewed snapshot of what was sent."""

import httpx
from pytest_mockpipe import MockPipe
from syrupy.assertion import SnapshotAssertion

from mockpipe import validate


def signup_call(user_id: str) -> dict[str, object]:  # stands for the code that builds your calls
    return {"type": "track", "userId": user_id, "event": "Signed Up", "properties": {"plan": "pro"}}


def test_signup_call_meets_the_spec() -> None:
    assert validate(signup_call("u1")) == []


def test_signup_call_matches_the_reviewed_snapshot(mockpipe: MockPipe, mockpipe_snapshot: SnapshotAssertion) -> None:
    httpx.post(f"{mockpipe.url}/v1/track", auth=(mockpipe.write_key, ""), json=signup_call("u1"))
    assert mockpipe.expect(1, event="Signed Up") == mockpipe_snapshot
