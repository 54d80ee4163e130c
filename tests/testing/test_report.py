"""The run report: counts, violations by code, rejected requests, and its three renderings."""

from __future__ import annotations

from xml.etree import ElementTree

import httpx

from mockpipe import MockPipeServer
from mockpipe.testing.report import RunReport, other_keys


def _report(server: MockPipeServer) -> RunReport:
    return RunReport.of(server.journal.calls(duplicates=True), server.journal.requests())


def test_counts_types_events_violations_and_rejections() -> None:
    with MockPipeServer() as server:

        def send(path: str, body: object, key: str = "k1") -> None:
            httpx.post(server.url + path, json=body, auth=(key, ""))

        send("/v1/track", {"userId": "u1", "event": "Signed Up"})
        send("/v1/track", {"userId": "u1", "event": "Signed Up", "messageId": "m1"})
        send("/v1/track", {"userId": "u1", "event": "Signed Up", "messageId": "m1"})  # a resend: not counted
        send("/v1/page", {"userId": "u1", "name": "Home"})
        send("/v1/track", {"userId": "u1"}, key="k2")
        send("/v1/batch", {"batch": []})
        httpx.post(server.url + "/v1/track", content=b"{not json", auth=("k1", ""))
        report = _report(server)
    assert report.calls == 4
    assert report.by_type == {"track": 3, "page": 1}
    assert report.by_event == {("track", "Signed Up"): 2, ("page", "Home"): 1}
    assert report.error_codes == ["batch.empty", "track.event.required"]
    assert report.rejected == {"request.json.invalid": 1}
    assert report.errors == 3
    assert other_keys(report, "k1") == [("k2", 1)]
    text = report.text()
    assert "4 call(s): 1 page, 3 track" in text
    assert "error batch.empty: 1" in text
    assert "rejected requests: 1 request.json.invalid" in text


def test_a_strict_refusal_is_counted_once() -> None:
    with MockPipeServer(strict=True) as server:
        assert httpx.post(server.url + "/v1/track", json={"userId": "u1"}, auth=("k", "")).status_code == 400
        report = _report(server)
    assert report.error_codes == ["track.event.required"]
    assert not report.rejected
    assert report.errors == 1


def test_markdown_escapes_table_cells() -> None:
    with MockPipeServer() as server:
        httpx.post(server.url + "/v1/track", json={"userId": "u1", "event": "a|b"}, auth=("k", ""))
        markdown = _report(server).markdown()
    assert "| track | a\\|b | 1 |" in markdown


def test_junit_xml_is_well_formed_whatever_a_payload_holds() -> None:
    with MockPipeServer() as server:
        httpx.post(server.url + "/v1/screen", json={"userId": "u1", "name": 7, "x": "<&>"}, auth=("k", ""))
        xml = _report(server).junit_xml()
    root = ElementTree.fromstring(xml)
    assert root.tag == "testsuites"
    assert {case.get("name") for case in root.iter("testcase")} >= {"calls received", "field.type"}
