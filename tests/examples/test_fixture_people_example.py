"""The pytest plugin page's example: the people and objects a test's own calls made."""

import httpx
from pytest_mockpipe import MockPipe


def test_signup_makes_the_person(mockpipe: MockPipe) -> None:
    auth = (mockpipe.write_key, "")
    httpx.post(
        f"{mockpipe.url}/v1/identify",
        auth=auth,
        json={"userId": "u1", "traits": {"plan": "trial", "email": "u1@example.com"}},
    )
    httpx.post(
        f"{mockpipe.url}/v1/group",
        auth=auth,
        json={"userId": "u1", "groupId": "acme", "traits": {"relationshipAttributes": {"role": "admin"}}},
    )
    person = mockpipe.person("u1@example.com")
    group = mockpipe.object("acme")
    assert person is not None and group is not None
    assert person.traits == {"plan": "trial", "email": "u1@example.com"}
    assert group.people == {"u1": {"role": "admin"}}
