"""`mockpipe serve`'s module: the web stack loads in its handler only, its options match the store's, and
`--allow-host` reaches the guard of the inspection API."""

from __future__ import annotations

import subprocess
import sys

import httpx

from mockpipe.cli import build_parser
from mockpipe.cli.serve import STORE_SYNC, config_from_args
from mockpipe.journal.store import SYNCHRONOUS
from tests.support.serve_process import ServeProcess


def test_building_the_parser_loads_no_web_stack() -> None:
    # What `mockpipe validate` (or any command but serve and bench) pays before it runs.
    probe = (
        "from mockpipe.cli import build_parser\n"
        "build_parser().parse_args(['serve'])\n"
        "import sys\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert set(result.stdout.split()) & {"starlette", "hypercorn", "sqlite3"} == set()


def test_store_sync_choices_are_the_stores() -> None:
    assert STORE_SYNC == SYNCHRONOUS
    args = build_parser().parse_args(["serve", "--store", "x.db", "--record", "r.jsonl", "--forward", "http://h"])
    assert (args.store, args.store_sync, args.record, args.forward, args.forward_key) == (
        "x.db",
        "normal",
        "r.jsonl",
        "http://h",
        None,
    )


def test_allow_host_is_repeatable_on_serve_and_run() -> None:
    for command in (["serve"], ["run", "--", "true"]):
        args = build_parser().parse_args(
            [*command[:1], "--allow-host", "DevBox", "--allow-host", "10.0.0.7", *command[1:]]
        )
        assert config_from_args(args).allow_hosts == frozenset({"devbox", "10.0.0.7"})
    assert config_from_args(build_parser().parse_args(["serve"])).allow_hosts == frozenset()


def test_a_bad_allowed_host_is_refused_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockpipe", "serve", "--port", "0", "--allow-host", "http://devbox:4242"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "without scheme or port" in result.stderr and "Traceback" not in result.stderr


def test_serve_answers_the_allowed_host_and_says_who_it_answers() -> None:
    with ServeProcess("--allow-host", "devbox.internal") as served:
        allowed = httpx.get(f"{served.url}/mockpipe/health", headers={"Host": "devbox.internal"})
        refused = httpx.get(f"{served.url}/mockpipe/health", headers={"Host": "other.internal"})
        out = served.stop()
    assert allowed.status_code == 200
    assert refused.status_code == 403 and "--allow-host other.internal" in refused.json()["message"]
    assert "answer requests to localhost, devbox.internal only" in out


def test_the_banner_names_the_web_ui() -> None:
    with ServeProcess() as served:
        out = served.stop()
    assert f"  open the web UI at {served.url}/mockpipe/ui in a browser\n" in out
    ui = [line for line in out.splitlines() if "/mockpipe/ui" in line]
    assert len(ui) == 1


def test_serve_leaves_its_start_up_objects_out_of_full_collections() -> None:
    # A full collection walks every tracked object, the event loop waiting: during ten giant waits on
    # 300k calls one took 116 ms (issue 13). What start-up built lives as long as the server: frozen.
    import gc

    from mockpipe.cli.serve import _freeze_start_up_objects

    try:
        _freeze_start_up_objects()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
