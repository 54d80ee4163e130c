"""`mockpipe plan check` and `mockpipe plan coverage`, over fixture plans, recordings and a live server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mockpipe import MockPipeServer
from mockpipe.cli import main
from mockpipe.cli.plan import PLAN_FORMATS
from mockpipe.plans.load import FORMATS
from tests.plans.conftest import SHOP_PLANS

SHOP = SHOP_PLANS["mockpipe"]


def write_recording(path: Path, payloads: list[dict[str, Any]], write_key: str = "k1") -> Path:
    """A recording in mockpipe's export format: one call record a line."""
    lines = [
        orjson.dumps({"id": i, "writeKey": write_key, "type": p["type"], "payload": p}) for i, p in enumerate(payloads)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


ORDER: dict[str, Any] = {
    "type": "track",
    "userId": "u1",
    "event": "Order Completed",
    "properties": {"order_id": "o1", "total": 5},
}
VIEW: dict[str, Any] = {"type": "track", "userId": "u1", "event": "Product Viewed", "properties": {"sku": "SKU-1"}}


def test_the_parser_names_every_plan_format() -> None:
    assert tuple(FORMATS) == PLAN_FORMATS


@pytest.mark.parametrize("name", sorted(SHOP_PLANS))
def test_check_prints_what_each_format_holds(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "check", str(SHOP_PLANS[name])]) == 0
    out = capsys.readouterr().out
    assert "track events: 2" in out
    assert "track:Order Completed: properties:" in out
    assert "order_id (string, required)" in out
    assert "total (number, required)" in out
    assert "plan.property.type         error" in out
    assert "unplanned events: allowed" in out


def test_check_json_is_the_own_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "check", "--json", str(SHOP_PLANS["segment"])]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mockpipe_plan"] == 1
    assert sorted(data["track"]) == ["Order Completed", "Product Viewed"]


def test_check_refuses_an_unreadable_plan_with_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "plan.yaml"
    broken.write_text("mockpipe_plan: 1\ntrack:\n  Order Completed: 12\n")
    assert main(["plan", "check", str(broken)]) == 2
    err = capsys.readouterr().err
    assert str(broken) in err and "/track/Order Completed" in err and "expected" in err
    assert main(["plan", "check", str(tmp_path / "missing.yaml")]) == 2


@pytest.mark.parametrize("forced", ["segment", "segment-rules", "rudderstack"])
def test_check_forced_format_that_does_not_fit(forced: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "check", "--plan-format", forced, str(SHOP)]) == 2
    assert f"cannot read tracking plan {SHOP}" in capsys.readouterr().err


def test_coverage_of_recordings_in_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = write_recording(tmp_path / "run.jsonl", [ORDER, ORDER])
    assert main(["plan", "coverage", str(SHOP), str(recording)]) == 0
    out = capsys.readouterr().out
    assert "events covered: 50.0% (1 of 2)" in out
    assert "never sent: track:Product Viewed" in out
    assert main(["plan", "coverage", str(SHOP), str(recording), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["events"] == {"planned": 2, "covered": 1}
    assert report["rules"][0]["calls"] == 2
    assert main(["plan", "coverage", str(SHOP), str(recording), "--format", "markdown"]) == 0
    assert "| `track:Order Completed` | 2 |" in capsys.readouterr().out


def test_coverage_reads_folders_and_filters_by_write_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    write_recording(folder / "a.jsonl", [ORDER], write_key="k1")
    write_recording(folder / "b.jsonl", [VIEW], write_key="k2")
    (folder / "README.md").write_text("not a recording")
    assert main(["plan", "coverage", str(SHOP), str(folder), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["events_covered"] == 100.0
    assert main(["plan", "coverage", str(SHOP), str(folder), "--write-key", "k2", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["events_never_sent"] == ["track:Order Completed"]


def test_coverage_fail_under(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = write_recording(tmp_path / "run.jsonl", [ORDER])
    assert main(["plan", "coverage", str(SHOP), str(recording), "--fail-under", "50"]) == 0
    assert main(["plan", "coverage", str(SHOP), str(recording), "--fail-under", "75"]) == 1
    assert "events covered 50.0% is under --fail-under 75%" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["plan", "coverage", str(SHOP), str(recording), "--fail-under", "101"])


def test_coverage_of_the_golden_recordings(capsys: pytest.CaptureFixture[str]) -> None:
    """The eight SDK recordings are read whole, whatever SDK wrote them."""
    assert main(["plan", "coverage", str(SHOP), "recordings", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["calls"] > 8
    assert report["events"]["covered"] >= 1


def test_coverage_refuses_what_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(orjson.dumps({"writeKey": "k", "payload": ORDER}) + b"\n{not json\n")
    assert main(["plan", "coverage", str(SHOP), str(damaged)]) == 2
    assert f"{damaged}:2: not JSON" in capsys.readouterr().err
    assert main(["plan", "coverage", str(SHOP), str(tmp_path / "nothing.jsonl")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["plan", "coverage", str(SHOP)]) == 2
    assert "name recordings" in capsys.readouterr().err


def test_coverage_from_a_running_server(capsys: pytest.CaptureFixture[str]) -> None:
    with MockPipeServer() as server:
        for body in (ORDER, VIEW):
            assert httpx.post(f"{server.url}/v1/track", json=body, auth=("k1", "")).status_code == 200
        httpx.post(f"{server.url}/v1/track", json=VIEW, auth=("k2", ""))
        assert main(["plan", "coverage", str(SHOP), "--url", server.url, "--format", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["events"]["covered"] == 2 and report["calls"] == 3
        assert main(["plan", "coverage", str(SHOP), "--url", server.url, "--write-key", "k2", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["calls"] == 1
    assert main(["plan", "coverage", str(SHOP), "--url", server.url]) == 2
    assert "mockpipe plan coverage:" in capsys.readouterr().err
