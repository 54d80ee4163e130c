"""Where contracts come from: recordings (files or folders of them), read with the replay's reader,
and the sides of a diff (a server, recordings, or a plan file in any importable format).

Any recording mockpipe writes is read (`serve --record`, `mockpipe export`, the plugin's
`--mockpipe-record`, the golden recordings), and the other line formats replay reads (plain payloads,
SDK captures). A line that cannot be read makes the whole input unreadable: a contract inferred from
part of a file would report changes that are not there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from mockpipe.contracts.infer import Contract
from mockpipe.plans.load import load_plan
from mockpipe.plans.model import Plan, PlanError
from mockpipe.relay.sources import RECORDING_SUFFIXES, SourceError, holds_recordings, recorded_calls
from mockpipe.types import JSONObject


def recorded_payloads(paths: Iterable[str | os.PathLike[str]], *, write_key: str | None = None) -> Iterator[JSONObject]:
    """The calls of the recordings, optionally only those of one write key; raises SourceError."""
    return (call.payload for call in recorded_calls(paths, write_key=write_key))


def contract_of_recordings(paths: Iterable[str | os.PathLike[str]], *, write_key: str | None = None) -> Contract:
    return Contract().observe_all(recorded_payloads(paths, write_key=write_key))


def is_server_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def contract_side(
    spec: str,
    *,
    write_key: str | None = None,
    fetch: Callable[[str, str | None], Iterable[JSONObject]] | None = None,
) -> Plan:
    """One side of a diff as a plan: a running server (an http:// URL, its calls read by `fetch`), a
    recording or a folder of recordings (inferred), or a contract or plan file or folder in any
    importable format. Raises SourceError or PlanError when it cannot be read."""
    if is_server_url(spec):
        if fetch is None:
            raise SourceError(f"{spec}: reading a running server is not available here")
        return Contract().observe_all(fetch(spec, write_key)).to_plan()
    path = Path(spec)
    if path.is_dir():
        if holds_recordings(path):
            return contract_of_recordings([path], write_key=write_key).to_plan()
        return load_plan(path)
    if not path.is_file():
        raise SourceError(f"{spec}: no such file or folder")
    if path.suffix.lower() in RECORDING_SUFFIXES:
        return contract_of_recordings([path], write_key=write_key).to_plan()
    try:
        return load_plan(path)
    except PlanError as plan_error:
        try:  # a recording saved under another suffix
            contract = contract_of_recordings([path], write_key=write_key)
        except SourceError:
            raise plan_error from None
        if not contract.events:
            raise plan_error from None
        return contract.to_plan()
