"""The pytest plugin page's example: the people and objects a test's own calls made."""

import httpx


def test_signup_makes_the_person(mockpipe):
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
    assert mockpipe.person("u1@example.com").traits == {"plan": "trial", "email": "u1@example.com"}
    assert mockpipe.object("acme").people == {"u1": {"role": "admin"}}
