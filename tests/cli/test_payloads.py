"""`mockpipe fake` and `mockpipe validate`, in process and (for reproducibility) as separate processes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockpipe import factories
from mockpipe.cli import build_parser, main, payloads as cli_payloads
from mockpipe.plans.codes import PLAN_RULES
from mockpipe.spec.rules import RULES
from mockpipe.spec.validator import validate


def _lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines()]


class _Stdin:
    """A stand-in for sys.stdin with the bytes `mockpipe validate -` reads."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


# -- mockpipe fake -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call_type", ["identify", "track", "page", "screen", "group", "alias", "batch"])
def test_fake_writes_valid_json_lines(capsys: pytest.CaptureFixture[str], call_type: str) -> None:
    assert main(["fake", call_type, "-n", "5", "--seed", "3"]) == 0
    payloads = _lines(capsys.readouterr().out)
    assert len(payloads) == 5
    for payload in payloads:
        assert validate(payload) == []
        assert ("batch" in payload) if call_type == "batch" else payload["type"] == call_type


def test_fake_is_seeded_and_shaped_by_channel(capsys: pytest.CaptureFixture[str]) -> None:
    main(["fake", "track", "-n", "3", "--seed", "9", "--channel", "mobile"])
    first = capsys.readouterr().out
    main(["fake", "track", "-n", "3", "--seed", "9", "--channel", "mobile"])
    assert capsys.readouterr().out == first
    assert all("device" in payload["context"] for payload in _lines(first))
    same = factories.PayloadFactory(seed=9, channel="mobile")
    assert _lines(first) == [same.track() for _ in range(3)]
    main(["fake", "track", "-n", "3", "--seed", "10", "--channel", "mobile"])
    assert capsys.readouterr().out != first


def test_fake_base_time_and_write_key(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "fake",
            "page",
            "--seed",
            "1",
            "--channel",
            "browser",
            "--base-time",
            "2031-05-06T07:08:09Z",
            "--write-key",
            "wk_cli",
        ]
    )
    payload = _lines(capsys.readouterr().out)[0]
    assert payload["timestamp"].startswith(("2031-05-0", "2031-04-"))
    assert payload["writeKey"] == "wk_cli"


def test_fake_invalid_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fake", "--invalid", "type.mismatch", "-n", "2", "--seed", "4"]) == 0
    captured = capsys.readouterr()
    assert "POST /v1/screen" in captured.err
    for payload in _lines(captured.out):
        assert [v.code for v in validate(payload, call_type="screen")] == ["type.mismatch"]

    assert main(["fake", "batch", "--invalid", "batch.empty", "--seed", "4"]) == 0
    assert _lines(capsys.readouterr().out)[0]["batch"] == []


def test_fake_invalid_mistake_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fake", "--invalid", "eu-key-on-us-server", "--seed", "2"]) == 0
    captured = capsys.readouterr()
    payload = _lines(captured.out)[0]
    assert "region 'us'" in captured.err
    assert [v.code for v in validate(payload, region="us")] == ["writeKey.region"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fake", "--invalid", "no.such.rule"], "no invalid case named 'no.such.rule'"),
        (["fake", "identify", "--invalid", "track.event.required"], "sent to /v1/track, not /v1/identify"),
        (["fake"], "say which TYPE"),
    ],
)
def test_fake_refuses_what_it_cannot_make(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_fake_rejects_bad_options() -> None:
    with pytest.raises(SystemExit):
        main(["fake", "track", "-n", "0"])
    with pytest.raises(SystemExit):
        main(["fake", "track", "--base-time", "yesterday"])
    with pytest.raises(SystemExit):
        main(["fake", "event"])


def test_fake_options_match_the_factories() -> None:
    # cli/payloads names the channels and the base time itself, so as not to load Faker at start-up.
    args = build_parser().parse_args(["fake", "track"])
    assert args.base_time == factories.BASE_TIME and args.channel is None
    assert cli_payloads.CHANNELS == factories.CHANNELS
    for channel in factories.CHANNELS:
        assert build_parser().parse_args(["fake", "track", "--channel", channel]).channel == channel


# -- mockpipe validate -------------------------------------------------------------------------------


def test_validate_valid_json_lines_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "calls.jsonl"
    factory = factories.PayloadFactory(seed=1)
    path.write_bytes(
        b"".join(orjson.dumps(factory.call(t)) + b"\n" for t in ("identify", "track", "page"))
        + b"\n"
        + orjson.dumps(factory.batch())
        + b"\n"
    )
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "4 payload(s): 0 error(s), 0 warning(s)" in captured.err


def test_validate_reports_code_path_and_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "calls.jsonl"
    lines = [
        factories.track(seed=1),
        factories.invalid("track.event.required", seed=1),
        factories.invalid("id.number", seed=2),
        factories.invalid("batch.item.type", seed=3),
    ]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}:2: error track.event.required at /event: track call needs a non-empty event name"
    assert out[1].startswith(f"{path}:3: warning id.number at /userId: userId is the number ")
    assert out[2].startswith(f"{path}:4: error batch.item.type at /batch/")
    assert len(out) == 3


def test_validate_warnings_alone_exit_0(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(orjson.dumps(factories.invalid("identify.properties", seed=1))))
    assert main(["validate"]) == 0
    assert "stdin: warning identify.properties at /properties" in capsys.readouterr().out


def test_validate_reads_one_document_or_an_array(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pretty = orjson.dumps(factories.invalid("batch.empty", seed=1), option=orjson.OPT_INDENT_2)
    monkeypatch.setattr(sys, "stdin", _Stdin(pretty))
    assert main(["validate", "-"]) == 1
    assert capsys.readouterr().out.startswith("stdin: error batch.empty at /batch:")
    array = orjson.dumps([factories.page(seed=1), {"type": "screen", "userId": "u1"}], option=orjson.OPT_INDENT_2)
    monkeypatch.setattr(sys, "stdin", _Stdin(array))
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.startswith("stdin[1]: warning screen.name.missing at /name:")


def test_validate_options_reach_the_validator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "page.json"
    path.write_bytes(orjson.dumps(factories.page(seed=1, channel="server")))
    assert main(["validate", str(path), "--call-type", "screen"]) == 0
    assert "type.mismatch" in capsys.readouterr().out
    assert main(["validate", str(path), "--region", "us", "--write-key", "pk_eu_abc", "--json"]) == 1
    (violation,) = _lines(capsys.readouterr().out)
    assert violation["code"] == "writeKey.region" and violation["severity"] == "error"
    assert violation["source"] == str(path) and violation["path"] == ""


def test_validate_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type":"track","userId":"u1","event":"E"}\n{not json\n[1]\n{"userId":"u1"}\n')
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:2: error request.json.invalid at (whole call): request body is not valid JSON")
    assert (
        out[1] == f"{path}:3: error request.json.not_object at (whole call): request body must be a JSON "
        "object, got an array"
    )
    assert out[2].startswith(f"{path}:4: error: cannot tell which endpoint") and "--call-type" in out[2]
    assert main(["validate", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_validate_lists_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--rules"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [*RULES, *PLAN_RULES]


def test_fake_output_validates_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["fake", "batch", "-n", "20", "--seed", "5"])
    path = tmp_path / "batches.jsonl"
    path.write_text(capsys.readouterr().out)
    assert main(["validate", str(path)]) == 0
    assert "20 payload(s): 0 error(s), 0 warning(s)" in capsys.readouterr().err


# -- two processes -----------------------------------------------------------------------------------

# Runs the command line with the wall clock ten years ahead (datetime.now, time.time): the output must
# not change, since timestamps come from the factories' fixed base time.
CLOCK_SHIFT = textwrap.dedent("""
    import datetime, runpy, sys, time
    real, shift = datetime.datetime, datetime.timedelta(days=3653)
    class Shifted(real):
        @classmethod
        def now(cls, tz=None):
            return real.now(tz) + shift
        @classmethod
        def utcnow(cls):
            return real.utcnow() + shift
        @classmethod
        def today(cls):
            return real.today() + shift
    datetime.datetime = Shifted
    real_time = time.time
    time.time = lambda: real_time() + shift.total_seconds()
    assert datetime.datetime.now().year >= real.now().year + 9
    sys.argv = ["mockpipe", *sys.argv[1:]]
    runpy.run_module("mockpipe", run_name="__main__", alter_sys=True)
""")


def _run(args: list[str], *, hash_seed: str, shift_clock: bool = False) -> bytes:
    command = [sys.executable, "-c", CLOCK_SHIFT, *args] if shift_clock else [sys.executable, "-m", "mockpipe", *args]
    done = subprocess.run(
        command, capture_output=True, check=True, timeout=60, env={**os.environ, "PYTHONHASHSEED": hash_seed}
    )
    return done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["fake", "track", "-n", "40", "--seed", "42"],
        ["fake", "batch", "-n", "10", "--seed", "7", "--channel", "browser"],
    ],
)
def test_same_seed_same_bytes_across_processes(args: list[str]) -> None:
    first = _run(args, hash_seed="1")
    second = _run(args, hash_seed="2", shift_clock=True)
    assert first and first == second
    assert len(first.splitlines()) == int(args[args.index("-n") + 1])
    in_process = factories.PayloadFactory(seed=int(args[args.index("--seed") + 1]))
    assert orjson.loads(first.splitlines()[0]) == (
        in_process.track() if args[1] == "track" else in_process.batch(channel="browser")
    )


# -- a reader that leaves, and times out of range ----------------------------------------------------


def _first_line_then_close(args: list[str]) -> tuple[bytes, int, bytes]:
    """Run `mockpipe ARGS | head -1`: read one line, close the pipe, and return (line, exit status, stderr)."""
    with subprocess.Popen(
        [sys.executable, "-m", "mockpipe", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        proc.stdout.close()
        status = proc.wait(timeout=60)
        return line, status, proc.stderr.read()


def test_fake_into_a_reader_that_leaves_exits_quietly() -> None:
    # 1000 track calls are ~1 MB: far more than a pipe holds, so the writer meets the closed pipe.
    line, status, err = _first_line_then_close(["fake", "track", "-n", "1000", "--seed", "1"])
    assert orjson.loads(line)["type"] == "track"
    assert (status, err) == (0, b"")


def test_validate_into_a_reader_that_leaves_exits_quietly(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes((orjson.dumps(factories.invalid("track.event.required", seed=1)) + b"\n") * 5000)
    line, status, err = _first_line_then_close(["validate", str(path)])
    assert b"track.event.required" in line
    assert status == 1 and b"Traceback" not in err and b"BrokenPipe" not in err  # still: the payloads had errors


@pytest.mark.parametrize("base", ["0001-01-01", "9999-12-31T23:59:59Z", "0001-01-01T00:30:00+01:00"])
def test_fake_base_time_out_of_range_is_a_clear_error(capsys: pytest.CaptureFixture[str], base: str) -> None:
    assert main(["fake", "track", "--seed", "1", "--base-time", base]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mockpipe fake: base time ") and "Traceback" not in captured.err


# -- mockpipe validate --plan ------------------------------------------------------------------------

SHOP_PLAN = Path(__file__).parents[1] / "plans" / "fixtures" / "mockpipe" / "plan.yaml"


def test_validate_plan_reports_plan_codes_with_their_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = tmp_path / "calls.jsonl"
    order = {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"order_id": "o", "total": "9"}}
    batch = {"batch": [{"type": "identify", "userId": "u1", "traits": {"email": "a@b.co", "plan": "gold"}}]}
    calls.write_bytes(orjson.dumps(order) + b"\n" + orjson.dumps(batch) + b"\n")
    assert main(["validate", "--plan", str(SHOP_PLAN), str(calls)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{calls}:1: error plan.property.type at /properties/total:")
    assert out[0].endswith(f"[plan rule track:Order Completed in {SHOP_PLAN}#/track/Order Completed]")
    assert out[1].startswith(f"{calls}:2: error plan.property.enum at /batch/0/traits/plan:")
    assert main(["validate", "--json", "--plan", str(SHOP_PLAN), str(calls)]) == 1
    first = _lines(capsys.readouterr().out)[0]
    assert first["code"] == "plan.property.type"
    assert first["plan"]["rule"] == "track:Order Completed" and first["plan"]["file"] == str(SHOP_PLAN)


def test_validate_plan_passes_calls_the_plan_allows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = tmp_path / "calls.json"
    order = {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"order_id": "o", "total": 9}}
    calls.write_bytes(orjson.dumps(order))
    assert main(["validate", "--plan", str(SHOP_PLAN), str(calls)]) == 0
    assert main(["validate", str(calls)]) == 0  # and without the plan, the same call is clean
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().err


def test_validate_refuses_an_unreadable_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "plan.json"
    broken.write_text('{"mockpipe_plan": 1, "track": [')
    assert main(["validate", "--plan", str(broken), str(SHOP_PLAN)]) == 2
    assert capsys.readouterr().err.startswith(f"mockpipe validate: cannot read tracking plan {broken}")


def test_validate_reads_mockpipe_export_records_and_checks_the_calls_inside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It validated the records themselves: 11 errors on valid calls (replay read the same file correctly).
    import httpx

    from mockpipe import MockPipeServer

    factory = factories.PayloadFactory(seed=3)
    with MockPipeServer() as server, httpx.Client(base_url=server.url, auth=("k1", ""), timeout=10) as http:
        for call_type in ("identify", "track", "group", "page"):
            assert http.post(f"/v1/{call_type}", json=factory.call(call_type)).status_code == 200
        assert http.post("/v1/batch", json=factory.batch()).status_code == 200
        http.post("/v1/track", json={"userId": "u1", "properties": {}})  # no event: one error
        export = tmp_path / "export.jsonl"
        assert main(["export", "--url", server.url, "-o", str(export)]) == 0
    records = _lines(export.read_text())
    assert len(records) > 5 and all("payload" in record for record in records)
    capsys.readouterr()
    assert main(["validate", str(export)]) == 1
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    assert line.startswith(f"{export}:{len(records)}: error track.event.required at /event")
    assert f"{len(records)} payload(s): 1 error(s), 0 warning(s)" in captured.err


@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        ("track.event.requird", "track.event.required"),
        ("Track.Event.Required", "track.event.required"),
        ("eu-key-on-us", "eu-key-on-us-server"),
    ],
)
def test_fake_invalid_suggests_the_closest_names(capsys: pytest.CaptureFixture[str], name: str, suggested: str) -> None:
    assert main(["fake", "--invalid", name]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"mockpipe fake: no invalid case named {name!r}; did you mean {suggested}")


CAPTURES = Path(__file__).parents[1] / "data" / "sdk_captures"


@pytest.mark.parametrize("capture", sorted(p.name for p in CAPTURES.glob("*.jsonl")))
def test_validate_reads_sdk_captures_as_the_bodies_they_sent(capture: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Each captured request stands for its body at its endpoint (as replay reads it); settings and script
    # requests of the browser captures are left out. The records themselves were reported as errors.
    assert main(["validate", str(CAPTURES / capture)]) == 0
    assert " 0 error(s)" in capsys.readouterr().err


def test_validate_checks_a_captured_body_at_its_endpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "capture.jsonl"
    record = {"method": "POST", "path": "/v1/track", "headers": [], "json": {"userId": "u1"}}
    settings = {"method": "GET", "path": "/v1/projects/k/settings", "headers": []}
    capture.write_bytes(orjson.dumps(settings) + b"\n" + orjson.dumps(record) + b"\n")
    assert main(["validate", "--json", str(capture)]) == 1
    found = _lines(capsys.readouterr().out)
    assert [(v["source"], v["code"]) for v in found] == [(f"{capture}:2", "track.event.required")]
