"""The benchmark's options: from the command line, quick, rounds, and wrk refused by name when missing."""

from __future__ import annotations

import pytest

from mockpipe.bench import options as options_module
from mockpipe.bench.options import BenchError, BenchOptions
from mockpipe.cli import build_parser
from mockpipe.cli.bench import options_from_args


def test_options_from_the_command_line() -> None:
    def options(*argv: str) -> BenchOptions:
        return options_from_args(build_parser().parse_args(["bench", *argv]))

    assert options() == BenchOptions()
    quick = options("--quick", "--connections", "4", "--scenario", "batch")
    assert (quick.duration, quick.connections, quick.scenarios, quick.driver) == (0.25, 4, ("batch",), "builtin")
    assert options("--duration", "3", "--driver", "builtin").duration == 3
    with pytest.raises(BenchError, match="positive"):
        options("--duration", "0")


def test_wrk_is_refused_by_name_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(options_module, "wrk_path", lambda: None)
    with pytest.raises(BenchError, match="apt-get install -y wrk"):
        BenchOptions(driver="wrk").resolved_driver()
    assert BenchOptions(driver="auto").resolved_driver() == "builtin"


def test_rounds_option() -> None:
    args = build_parser().parse_args(["bench", "--rounds", "3", "--duration", "6"])
    options = options_from_args(args)
    assert (options.rounds, options.duration) == (3, 6)
    assert BenchOptions().rounds == 5 and BenchOptions.quick().rounds == 1
    with pytest.raises(BenchError, match="--rounds"):
        options_from_args(build_parser().parse_args(["bench", "--rounds", "0"]))


def test_the_burst_is_in_every_run_unless_left_out() -> None:
    def options(*argv: str) -> BenchOptions:
        return options_from_args(build_parser().parse_args(["bench", *argv]))

    assert (options().burst_events, options("--quick").burst_events) == (100_000, 10_000)
    assert options("--burst-events", "5000").burst_events == 5000
    assert options("--no-burst").burst_events == options("--quick", "--no-burst").burst_events == 0
    with pytest.raises(BenchError, match="--no-burst"):
        options("--burst-events", "0")
