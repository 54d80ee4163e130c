"""The plans in force: default and per-key plans, replacing and dropping, reloads from disk, coverage."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mockpipe.plans import PlanError, loads_plan
from mockpipe.plans.registry import PlanRegistry
from tests.plans.conftest import SHOP_PLANS

ONE = "mockpipe_plan: 1\ntrack:\n  A:\n    properties: {type: object, properties: {x: {type: string}}}\n"
TWO = ONE + "  B:\n    properties: {type: object, properties: {y: {type: string}}}\n"


def _touch_later(path: Path, text: str) -> None:
    """Write `text` and move the mtime on, so that a change is seen even within the clock's resolution."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_a_key_has_its_own_plan_else_the_default() -> None:
    plans = PlanRegistry()
    assert not plans.active and plans.plan_for("k") is None and plans.coverage() is None
    default = plans.set(loads_plan(ONE)).plan
    own = plans.set(loads_plan(TWO), write_key="k").plan
    assert plans.active
    assert plans.plan_for("k") is own and plans.plan_for("other") is default and plans.plan_for(None) is default
    assert plans.write_keys() == ["k"]
    assert plans.drop("k") and not plans.drop("k")
    assert plans.plan_for("k") is default
    assert plans.drop() and not plans.active


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_plan_in_force(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(ONE)
    plans = PlanRegistry()
    first = plans.load(path)
    assert first.origin == "file" and plans.watched
    assert plans.reload_if_changed() == []  # nothing changed
    _touch_later(path, TWO)
    told = plans.reload_if_changed()
    assert len(told) == 1 and "reloaded" in told[0]
    assert plans.plan_for(None) is not None and plans.plan_for(None).events == ("A", "B")  # type: ignore[union-attr]
    in_force = plans.entry_for(None)
    _touch_later(path, "mockpipe_plan: 1\ntrack: [\n")
    told = plans.reload_if_changed()
    assert len(told) == 1 and "cannot be read" in told[0] and str(path) in told[0]
    assert plans.entry_for(None) is in_force
    assert plans.reload_if_changed() == []  # the same broken file is told once
    _touch_later(path, ONE)
    assert "reloaded" in plans.reload_if_changed()[0]
    assert plans.plan_for(None).events == ("A",)  # type: ignore[union-attr]


def test_a_folder_plan_reloads_when_one_of_its_files_changes(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    folder.mkdir()
    for file in SHOP_PLANS["jsonschema"].rglob("*.json"):
        target = folder / file.relative_to(SHOP_PLANS["jsonschema"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.read_bytes())
    plans = PlanRegistry()
    assert plans.load(folder).origin == "folder"
    events = plans.plan_for(None).events  # type: ignore[union-attr]
    extra = folder / "zz_signed_up.json"
    extra.write_text('{"title": "Signed Up", "type": "object", "properties": {"method": {"type": "string"}}}')
    assert plans.reload_if_changed()
    assert plans.plan_for(None).events == (*events, "Signed Up")  # type: ignore[union-attr]


def test_an_unreadable_plan_changes_nothing(tmp_path: Path) -> None:
    plans = PlanRegistry()
    entry = plans.set(loads_plan(ONE))
    with pytest.raises(PlanError):
        plans.load(tmp_path / "missing.yaml")
    assert plans.entry_for(None) is entry


def test_coverage_per_key_and_of_the_default_plan() -> None:
    plans = PlanRegistry()
    default = plans.set(loads_plan(TWO))
    own = plans.set(loads_plan(TWO), write_key="k")
    plans.observe(default, "a", "track", {"event": "A", "properties": {"x": "1"}})
    plans.observe(default, "b", "track", {"event": "A", "properties": {}})
    plans.observe(own, "k", "track", {"event": "B", "properties": {"y": "1"}})
    whole = plans.coverage()
    assert whole is not None and whole.calls == 2 and whole.report()["events_never_sent"] == ["track:B"]
    only_a = plans.coverage("a")
    assert only_a is not None and only_a.calls == 1
    keyed = plans.coverage("k")
    assert keyed is not None and keyed.report()["events_never_sent"] == ["track:A"]
    # A new plan for a key: what was counted carries over onto it.
    newer = plans.set(loads_plan(ONE), write_key="k")
    plans.observe(newer, "k", "track", {"event": "A", "properties": {}})
    keyed = plans.coverage("k")
    assert keyed is not None and keyed.calls == 2 and keyed.events_covered == 100.0
    plans.clear_coverage("k")
    assert plans.coverage("k").calls == 0  # type: ignore[union-attr]
    plans.clear_coverage()
    assert plans.coverage().calls == 0  # type: ignore[union-attr]


def test_replacing_while_calls_are_checked_is_safe() -> None:
    plans = PlanRegistry()
    plans.set(loads_plan(ONE))
    errors: list[BaseException] = []

    def check() -> None:
        try:
            for _ in range(2000):
                entry = plans.entry_for("k")
                if entry is not None:
                    entry.checker.check("track", {"event": "A", "properties": {"x": 1}})
                    plans.observe(entry, "k", "track", {"event": "A"})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for text in (TWO, ONE) * 10:
        plans.set(loads_plan(text), write_key="k")
        plans.drop("k")
    for thread in threads:
        thread.join()
    assert errors == []
    assert plans.coverage("k").calls == 4000  # type: ignore[union-attr]


def test_an_emulator_without_a_plan_loads_no_schema_library() -> None:
    """jsonschema-rs and PyYAML (about 6 MB and 30 ms) load when a plan is put in force, not before."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from mockpipe.emulator.app import create_app\n"
        "create_app()\n"
        "assert 'jsonschema_rs' not in sys.modules and 'yaml' not in sys.modules, sorted(sys.modules)\n"
        "from mockpipe.plans import loads_plan\n"
        "app = create_app(plan=loads_plan('mockpipe_plan: 1\\ntrack:\\n  E: {}\\n'))\n"
        "assert 'jsonschema_rs' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
