"""The requests captured from the published SDKs (tests/data/sdk_captures), as (sdk, path, JSON body)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.paths import SDK_CAPTURES


def captured_requests() -> list[tuple[str, str, dict[str, object]]]:
    """Every POST with a JSON object body, in file order: (the SDK's file stem, the request path, the body)."""
    found = []
    for path in sorted(SDK_CAPTURES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["method"] == "POST" and isinstance(record.get("json"), dict):
                found.append((Path(path).stem, record["path"], record["json"]))
    return found
