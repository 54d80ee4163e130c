"""wrk as the load driver of `mockpipe bench`, when it is on PATH (whole seconds only)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from mockpipe.bench.loadgen import LoadError, LoadResult, process_cpu_seconds
from mockpipe.bench.scenarios import HEADERS, Scenario, next_run

# wrk runs this in each of its threads: every request gets the body with a fresh id, and `done`
# prints the figures as one JSON line. `prefix` is a global that `setup` sets per thread.
_WRK_SCRIPT = """
local template = assert(io.open(__TEMPLATE__, "rb")):read("*a")
local headers = {__HEADERS__}
local threads = 0
local counter = 0
setup = function(thread)
  threads = threads + 1
  thread:set("prefix", string.format("%04d%02d000", __RUN__, 50 + threads))
end
request = function()
  counter = counter + 1
  local body = template:gsub("@ID@", string.format("%s%09d", prefix or "999999000", counter))
  return wrk.format("POST", __PATH__, headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('MOCKPIPE-BENCH {"requests": %d, "duration_us": %d, "errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    scenario: Scenario,
    host: str,
    port: int,
    *,
    connections: int,
    duration: float,
    warmup: float = 0.0,
    threads: int = 1,
    server_pid: int | None = None,
) -> LoadResult:
    """Drive the server with wrk (whole seconds only); raises `LoadError` if wrk is missing or fails."""
    wrk = wrk_path()
    if wrk is None:
        raise LoadError("wrk is not on PATH")
    with tempfile.TemporaryDirectory(prefix="mockpipe-wrk-") as folder:
        template = Path(folder, "body.json")
        template.write_bytes(scenario.template)
        script = Path(folder, "bench.lua")
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in HEADERS.items())
        text = (
            _WRK_SCRIPT.replace("__TEMPLATE__", _lua_string(str(template)))
            .replace("__HEADERS__", headers)
            .replace("__PATH__", _lua_string(scenario.path))
        )
        url = f"http://{host}:{port}{scenario.path}"

        def wrk_run(seconds: float) -> dict[str, Any]:
            script.write_text(text.replace("__RUN__", str(next_run())))
            command = [
                wrk,
                "-t",
                str(max(1, min(threads, connections))),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ]
            done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
            for line in done.stdout.splitlines():
                if line.startswith("MOCKPIPE-BENCH "):
                    report: dict[str, Any] = json.loads(line.split(" ", 1)[1])
                    return report
            raise LoadError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")

        if warmup > 0:
            wrk_run(warmup)
        cpu_before = None if server_pid is None else process_cpu_seconds(server_pid)
        report = wrk_run(duration)
        cpu_after = None if server_pid is None else process_cpu_seconds(server_pid)
    return LoadResult(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["errors"],
        driver="wrk",
        server_cpu_seconds=None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
    )
