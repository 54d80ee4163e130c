"""The golden recordings (`recordings/<sdk>.jsonl`, what each real SDK sent for the scenario) replayed
into a fresh emulator: each call, posted to the endpoint of its type with its write key, must still be
valid and journaled as recorded, apart from the values of the replay itself (ids, receivedAt, path).

A rule or an enrichment that changes how mockpipe takes what real SDKs send fails here;
`scripts/record_sdks.py` regenerates the recordings when an SDK is upgraded.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from tests.conftest import basic
from tests.support.golden import comparable, golden_key, read_recording
from tests.support.paths import RECORDINGS
from tests.support.sdk_scenario import CALL_TYPES, SDKS, check_scenario

# What a replay changes by itself: the journal's ids, the time of arrival, and the endpoint (each call is
# posted alone to /v1/<type>, where the SDK may have sent a batch or used /v1/t).
REPLAY_FIELDS = ("id", "requestId", "receivedAt", "path")


def test_every_sdk_has_a_recording() -> None:
    assert {path.stem for path in RECORDINGS.glob("*.jsonl")} >= set(SDKS)


@pytest.mark.parametrize("name", list(SDKS))
def test_a_recording_replays_valid_and_unchanged(name: str) -> None:
    recorded = read_recording(name)
    assert [call["type"] for call in recorded] == list(CALL_TYPES)
    assert {call["writeKey"] for call in recorded} == {golden_key(name)}
    with MockPipeServer() as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for call in recorded:
            payload = {field: value for field, value in call["payload"].items() if field != "receivedAt"}
            answer = client.post(
                f"/v1/{call['type']}",
                content=orjson.dumps(payload),
                headers={**basic(call["writeKey"]), "Content-Type": "application/json"},
            )
            assert answer.status_code == 200, answer.text
        replayed = server.calls(write_key=golden_key(name))
        attempts = {call.id: server.journal.attempts(call.id) for call in replayed}

    check_scenario(name, replayed)  # valid, accepted, with the ids, traits and properties sent
    assert [comparable(call.to_dict(attempts=attempts[call.id]), also=REPLAY_FIELDS) for call in replayed] == [
        comparable(call, also=REPLAY_FIELDS) for call in recorded
    ]


@pytest.mark.parametrize("name", list(SDKS))
def test_a_recording_holds_no_value_of_the_machine_it_was_made_on(name: str) -> None:
    text = SDKS[name].recording.read_text()
    assert Path.home().as_posix() not in text
    for host in ("localhost:", "127.0.0.1:", "localhost%3A"):
        for found in text.split(host)[1:]:
            assert found.startswith(("<api-port>", "<page-port>")), f"{host}{found[:12]}"
