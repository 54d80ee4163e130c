"""Calls read from where the offline commands find them: recordings (`mockpipe.relay.sources`) or the
journal of a running server, read page after page through the inspection API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockpipe.relay.sources import SourcedCall, SourceError, recorded_calls

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


def calls_from_server(url: str, *, write_key: str | None = None) -> Iterator[SourcedCall]:
    """The accepted calls a running mockpipe holds, oldest first, resends left out; only `write_key`'s if given.

    Raises SourceError when nothing answers at `url` or what answers is not a mockpipe."""
    from mockpipe.cli.inspection_client import InspectionClient, InspectionError

    params = {} if write_key is None else {"writeKey": write_key}
    try:
        with InspectionClient(url) as client:
            for record in client.calls(params):
                if not record.get("accepted", True) or record.get("duplicateOf") is not None:
                    continue
                payload = record["payload"]
                yield SourcedCall(str(record["type"]), payload, record.get("writeKey"), f"{url} call {record['id']}")
    except InspectionError as exc:
        raise SourceError(f"{url}: {exc}") from exc


def read_sources(names: Iterable[str], *, url: str | None = None, write_key: str | None = None) -> list[SourcedCall]:
    """Every call of the recordings named and, with `url`, of that server (raises SourceError)."""
    calls = list(recorded_calls(names, write_key=write_key))
    if url is not None:
        calls.extend(calls_from_server(url, write_key=write_key))
    return calls
