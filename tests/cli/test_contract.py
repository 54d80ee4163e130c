"""`mockpipe plan infer` and `mockpipe contract diff`: files, recordings, folders and running servers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from mockpipe.cli import main
from mockpipe.emulator.server import MockPipeServer
from mockpipe.plans import load_plan
from tests.support.paths import RECORDINGS

ORDER: dict[str, object] = {"type": "track", "event": "Order Completed", "userId": "u1"}


def recording(path: Path, *calls: object) -> Path:
    path.write_bytes(b"".join(orjson.dumps(call) + b"\n" for call in calls))
    return path


@pytest.fixture
def old(tmp_path: Path) -> Path:
    return recording(
        tmp_path / "old.jsonl",
        {**ORDER, "properties": {"order_id": "o1", "total": 10, "coupon": "X"}},
        {**ORDER, "properties": {"order_id": "o2", "total": 12, "coupon": "Y"}},
        {"type": "track", "event": "Cart Viewed", "userId": "u1"},
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_infer_writes_the_contract_and_it_loads_as_a_plan(
    old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "plan", "infer", str(old))
    assert status == 0
    assert (
        "  Order Completed:\n    fields:\n      coupon: string\n      order_id: string\n      total: integer\n" in out
    )
    assert "a contract of 2 event(s) from 3 call(s)" in err
    target = tmp_path / "contract.yaml"
    assert run(capsys, "plan", "infer", str(old), "--out", str(target))[0] == 0
    assert target.read_text() == out
    assert load_plan(target).events == ("Cart Viewed", "Order Completed")


def test_infer_refuses_unreadable_recordings_and_missing_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "track", "event": "E", "userId": "u"}\nnot json\n')
    status, _, err = run(capsys, "plan", "infer", str(bad))
    assert status == 2 and "bad.jsonl:2: not JSON" in err
    assert run(capsys, "plan", "infer")[0] == 2


@pytest.mark.parametrize("fmt", ["segment", "rudderstack", "jsonschema"])
def test_infer_exports_each_format_reading_back_as_the_same_contract(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = [
        {**ORDER, "properties": {"order_id": "o1", "email": "a@example.com", "note": None, "ship": {"city": "Oslo"}}},
        {**ORDER, "properties": {"order_id": "o2", "email": "b@example.com", "note": "n", "ship": {"city": "Rome"}}},
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro", "seats": 3}},
        {"type": "identify", "userId": "u2", "traits": {"plan": "free"}},
        {"type": "group", "userId": "u1", "groupId": "g", "traits": {"tags": ["a"]}},
    ]
    source = recording(tmp_path / "calls.jsonl", *calls)
    own = tmp_path / "own.yaml"
    assert run(capsys, "plan", "infer", str(source), "--out", str(own))[0] == 0
    out = tmp_path / ("schemas" if fmt == "jsonschema" else f"plan.{fmt}")
    assert run(capsys, "plan", "infer", str(source), "--format", fmt, "--out", str(out))[0] == 0
    assert load_plan(out).source.format == {"segment": "segment-rules"}.get(fmt, fmt)
    status, diff, _ = run(capsys, "contract", "diff", str(own), str(out), "--fail-on", "any")
    assert (status, diff) == (0, "contract diff: no changes\n")


def test_diff_of_a_changed_app_lists_breaking_and_compatible_lines(
    old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = recording(
        tmp_path / "new.jsonl",
        {**ORDER, "properties": {"orderId": "o1", "total": "10", "coupon": "X", "gift": True}},
        {**ORDER, "properties": {"orderId": "o2", "total": "12"}},
    )
    status, out, _ = run(capsys, "contract", "diff", str(old), str(new))
    assert status == 1
    assert out.splitlines() == [
        "contract diff: 4 breaking, 2 compatible change(s)",
        "breaking changes:",
        "  - Cart Viewed (event removed)",
        "  ~ Order Completed.properties.coupon: was always sent, now optional (became optional)",
        "  - Order Completed.properties.order_id: string (property removed)",
        "  ~ Order Completed.properties.total: integer -> string (type changed)",
        "compatible changes:",
        "  + Order Completed.properties.gift: boolean, optional (property added)",
        "  + Order Completed.properties.orderId: string (property added)",
    ]
    data = json.loads(run(capsys, "contract", "diff", str(old), str(new), "--format", "json")[1])
    assert (data["breaking"], data["compatible"]) == (4, 2)
    markdown = run(capsys, "contract", "diff", str(old), str(new), "--format", "markdown", "--fail-on", "never")
    assert (
        markdown[0] == 0
        and "| `Order Completed` | `properties.total` | type changed | `integer` | `string` |" in markdown[1]
    )


def test_a_new_optional_property_is_compatible_and_fails_only_on_any(
    old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = recording(
        tmp_path / "new.jsonl",
        {**ORDER, "properties": {"order_id": "o1", "total": 10, "coupon": "X", "gift": True}},
        {**ORDER, "properties": {"order_id": "o2", "total": 12, "coupon": "Y"}},
        {"type": "track", "event": "Cart Viewed", "userId": "u1"},
    )
    status, out, _ = run(capsys, "contract", "diff", str(old), str(new))
    assert (status, out) == (
        0,
        "contract diff: 0 breaking, 1 compatible change(s)\ncompatible changes:\n"
        "  + Order Completed.properties.gift: boolean, optional (property added)\n",
    )
    assert run(capsys, "contract", "diff", str(old), str(new), "--fail-on", "any")[0] == 1


def test_unreadable_inputs_exit_2(old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "plan.yaml"
    broken.write_text("mockpipe_plan: 1\ntrack:\n  E:\n    fields:\n      a.b: string\n")
    status, _, err = run(capsys, "contract", "diff", str(broken), str(old))
    assert status == 2 and "at /track/E/fields/a.b" in err
    assert run(capsys, "contract", "diff", str(tmp_path / "missing.yaml"), str(old))[0] == 2
    assert run(capsys, "contract", "diff", str(old))[0] == 2  # neither NEW nor --url


def test_golden_folder_against_its_inferred_file_has_no_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = tmp_path / "contract.yaml"
    assert run(capsys, "plan", "infer", str(RECORDINGS), "--out", str(contract))[0] == 0
    assert run(capsys, "contract", "diff", str(contract), str(RECORDINGS), "--fail-on", "any")[0] == 0


@pytest.fixture
def server() -> Iterator[MockPipeServer]:
    with MockPipeServer() as running:
        for key, body in (
            ("k1", {"userId": "u", "event": "Order Completed", "properties": {"total": 1}}),
            ("k2", {"userId": "u", "event": "Other"}),
        ):
            auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
            assert httpx.post(running.url_for("/v1/track"), json=body, headers={"Authorization": auth}).is_success
        yield running


def test_a_running_server_is_a_side_by_url(
    old: Path, server: MockPipeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "contract", "diff", str(old), "--url", server.url, "--format", "json")
    changes = {(c["event"], c["path"], c["code"]) for c in json.loads(out)["changes"]}
    assert {("Cart Viewed", None, "event.removed"), ("Other", None, "event.added")} <= changes
    assert status == 1
    status, out, _ = run(capsys, "plan", "infer", "--url", server.url, "--write-key", "k1")
    assert status == 0 and "Other" not in out and "      total: integer\n" in out
    assert run(capsys, "contract", "diff", server.url, server.url)[0] == 0
