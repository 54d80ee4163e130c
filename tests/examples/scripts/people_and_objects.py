"""The offline tools page's example: people and objects from Python (run by test_doc_scripts)."""

import json
import urllib.request

from mockpipe import MockPipeServer


def send(server: MockPipeServer, call_type: str, **call: object) -> None:
    body = json.dumps({"writeKey": "pk_test", **call}).encode()
    request = urllib.request.Request(
        server.url_for(f"/v1/{call_type}"), data=body, headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request).close()


with MockPipeServer() as server:
    send(server, "track", anonymousId="a1", event="Viewed Pricing")
    send(server, "identify", anonymousId="a1", userId="u1", traits={"plan": "pro"})
    send(server, "group", userId="u1", groupId="acme", traits={"relationshipAttributes": {"role": "admin"}})
    send(
        server,
        "track",
        userId="u1",
        event="Device Created or Updated",
        context={"device": {"token": "fcm-81c0", "type": "android"}},
    )

    ada = server.person("a1")  # any of their ids; write_key="..." when several keys know it
    assert ada is not None
    assert ada.ids == ("u1", "a1")  # userId first, then merged ids
    assert ada.traits == {"plan": "pro"}
    relationship = ada.relationship("acme")  # or ada.objects[("1", "acme")]
    assert relationship is not None and relationship.attributes == {"role": "admin"}
    assert ada.devices["fcm-81c0"].type == "android"
    assert [e.name for e in ada.events] == ["Viewed Pricing", "Device Created or Updated"]
    acme = server.people.object("acme")
    assert acme is not None and acme.people == {"u1": {"role": "admin"}}
