"""One error shape for every answer: the tracking endpoints' bytes and the JSON APIs' are built alike."""

from __future__ import annotations

import json

import orjson

from mockpipe.emulator.error_body import error_body, tracking_error
from mockpipe.emulator.faults import FaultHit, fault_answer
from mockpipe.emulator.responses import error_response
from mockpipe.spec.rules import Violation

VIOLATIONS = (
    Violation("identity.required", "error", "/", "track call has neither userId nor anonymousId"),
    Violation("event.required", "error", "/event", "track call has no event"),
)


def test_a_tracking_error_has_violations_and_meta_errors() -> None:
    assert tracking_error("spec.violation", "2 spec violation(s)", VIOLATIONS) == (
        b'{"code":"spec.violation","message":"2 spec violation(s)","violations":['
        b'{"code":"identity.required","severity":"error","path":"/","message":"track call has neither userId nor '
        b'anonymousId"},{"code":"event.required","severity":"error","path":"/event","message":"track call has no '
        b'event"}],"meta":{"errors":["track call has neither userId nor anonymousId","track call has no event"]}}'
    )


def test_without_violations_meta_errors_carry_the_message() -> None:
    assert orjson.loads(tracking_error("auth.missing", "no write key")) == {
        "code": "auth.missing",
        "message": "no write key",
        "violations": [],
        "meta": {"errors": ["no write key"]},
    }


def test_an_injected_fault_answers_the_tracking_shape() -> None:
    hit = FaultHit(503, False, None, 0.0, None, b"", "fault 1: status 503")
    status, body, content_type = fault_answer(hit)
    message = "mockpipe answered 503 on purpose (fault 1: status 503)"
    assert (status, content_type) == (503, b"application/json")
    assert body == tracking_error("fault.injected", message)


def test_the_json_apis_answer_code_message_and_their_extras() -> None:
    assert error_body("ambiguous", "two", writeKeys=["a", "b"]) == {
        "code": "ambiguous",
        "message": "two",
        "writeKeys": ["a", "b"],
    }
    response = error_response("not_found", "nothing at /x é", 404, writeKeys=["a"])
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    # Starlette's JSON encoding, as before (compact, UTF-8 kept as it is).
    expected = {"code": "not_found", "message": "nothing at /x é", "writeKeys": ["a"]}
    assert response.body == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
