"""Regenerate the golden recordings: run each real SDK's scenario against a fresh mockpipe and write
`recordings/<sdk>.jsonl` (one journaled call per line, `Call.to_dict()`, in scenario order).

    python scripts/record_sdks.py            # every SDK that is installed here
    python scripts/record_sdks.py rudder-sdk-python segment-analytics-next

The Node and browser SDKs need `.ci/install-sdks.sh` first; an SDK that cannot run is reported and
its recording left as it was. Exits 1 if an SDK failed or could not run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package holds the scenario

from mockpipe import MockPipeServer
from tests.sdk import scenario
from tests.sdk.browser import drive
from tests.support.golden import golden_key, machine_values, recording_lines


def record(name: str, pages_url: str | None) -> str:
    """Run one SDK and write its recording; returns what was done."""
    sdk = scenario.SDKS[name]
    key = golden_key(name)
    page_port = None
    with MockPipeServer() as server:
        if sdk.kind == "python":
            with scenario.python_client(name, server.url, key) as client:
                scenario.send_python(client)
        elif sdk.kind == "node":
            scenario.send_node(name, server.url, key)
        else:
            assert pages_url is not None
            scenario.send_browser(name, pages_url, f"http://localhost:{server.port}", key)
            page_port = urlsplit(pages_url).port
        calls = server.wait_for(len(scenario.CALL_TYPES), 5.0, write_key=key).calls
        scenario.check_scenario(name, calls)
        lines = recording_lines(calls, server.journal, machine_values(api_port=server.port, page_port=page_port))
    sdk.recording.parent.mkdir(parents=True, exist_ok=True)
    sdk.recording.write_bytes(lines)
    return f"wrote {sdk.recording.relative_to(scenario.ROOT)} ({len(calls)} calls, {sdk.package} {sdk.version()})"


def unavailable(name: str) -> str | None:
    sdk = scenario.SDKS[name]
    if sdk.kind == "python":
        return None if sdk.version() is not None else f"{sdk.package} is not installed"
    if sdk.kind == "node":
        return scenario.node_missing(name)
    return drive.missing()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sdks", nargs="*", metavar="SDK", help=f"which SDKs (default: all): {', '.join(scenario.SDKS)}")
    names = parser.parse_args(argv).sdks or list(scenario.SDKS)
    unknown = [name for name in names if name not in scenario.SDKS]
    if unknown:
        parser.error(f"unknown SDK(s): {', '.join(unknown)}; known: {', '.join(scenario.SDKS)}")
    failed = 0
    with drive.page_server() as pages_url:
        for name in names:
            reason = unavailable(name)
            if reason is not None:
                print(f"{name}: skipped, {reason}")
                failed += 1
                continue
            try:
                print(f"{name}: {record(name, pages_url)}")
            except AssertionError as exc:
                print(f"{name}: FAILED, {exc}")
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
