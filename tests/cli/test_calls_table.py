"""How `mockpipe calls` lays out calls: plain columns off a terminal, a rich table on one, JSON lines."""

from __future__ import annotations

import io
import re

import orjson
import pytest
from rich.cells import cell_len

from mockpipe.cli.calls_table import COLUMNS, JsonRows, PlainRows, TerminalRows, cells, column_widths

ANSI = re.compile(r"\x1b\[[0-9;]*m")

CALLS = [
    {
        "id": 1,
        "receivedAt": "2024-01-02T03:04:05.123Z",
        "writeKey": "k1",
        "type": "track",
        "payload": {"userId": "u1", "event": "Order Completed"},
        "violations": [],
    },
    {
        "id": 22,
        "receivedAt": "2024-01-02T03:04:06.000Z",
        "writeKey": "k2",
        "type": "page",
        "payload": {"anonymousId": "a1", "category": "Docs", "name": "Home"},
        "violations": [{"code": "context.library.missing", "severity": "warning"}],
    },
    {
        "id": 333,
        "receivedAt": "2024-01-02T03:04:07.000Z",
        "writeKey": "k1",
        "type": "track",
        "accepted": False,
        "payload": {"event": "注文完了 " * 10},  # wide characters: two terminal cells each
        "violations": [{"code": "identity.required", "severity": "error"}],
    },
]


@pytest.fixture(autouse=True)
def colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal with colours, whatever the environment running the tests says."""
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "COLORTERM", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


def test_widths_give_the_event_column_what_is_left_and_never_less_than_its_minimum() -> None:
    assert column_widths(200)[4] == 200 - sum(w for _, w in COLUMNS) - 2 * (len(COLUMNS) - 1)
    assert column_widths(80)[4] == 16
    assert [w for w, (_, fixed) in zip(column_widths(80), COLUMNS, strict=True) if fixed] == [7, 12, 14, 8, 22, 28]


def test_cells_say_what_tells_calls_apart() -> None:
    assert cells(CALLS[0]) == ["1", "03:04:05.123", "k1", "track", "Order Completed", "u1", "valid"]
    assert cells(CALLS[1])[4:] == ["Docs / Home", "anon:a1", "valid, 1 warning(s)"]
    assert cells(CALLS[2])[-1] == "rejected: identity.required"
    assert cells(dict(CALLS[0], duplicateOf=1, forward={"status": 200}))[-1] == "resend of 1 | fwd 200"


def test_plain_rows_are_fixed_width_columns_without_escapes() -> None:
    out = io.StringIO()
    rows = PlainRows(out, 120)
    rows.header()
    rows.show(CALLS)
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()
    assert lines[0].split() == ["ID", "TIME", "KEY", "TYPE", "EVENT", "/", "NAME", "USER", "STATUS"]
    starts = [lines[0].index(name) for name, _ in COLUMNS]
    assert [lines[1].index(text) for text in cells(CALLS[0])] == starts  # every column under its title
    # Wide characters take two cells: the event is cut to its 17 cells with an ellipsis (padded where
    # a wide character would straddle the edge), and STATUS starts in the same cell as its title.
    event = lines[3][starts[4] : lines[3].index("rejected")].rstrip()
    assert event == "注文完了 注文完 …" and cell_len(event) == column_widths(120)[4]
    assert cell_len(lines[3][: lines[3].index("rejected")]) == starts[6]


def test_plain_rows_escape_control_characters() -> None:
    out = io.StringIO()
    PlainRows(out, 120).show([dict(CALLS[0], payload={"userId": "u\x07", "event": "\x1b[2Jx"})])
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "\\x1b[2Jx" in out.getvalue() and "u\\x07" in out.getvalue()


def test_terminal_rows_are_a_table_with_a_bold_header_and_coloured_statuses() -> None:
    out = io.StringIO()
    rows = TerminalRows(out, 120)
    rows.header()
    rows.show(CALLS[:2])
    rows.show(CALLS[2:])  # a later batch (--follow): the same columns
    text = out.getvalue()
    assert "\x1b[1m" in text  # bold header
    assert "\x1b[32mvalid" in text and "\x1b[33mvalid, 1 warning(s)" in text and "\x1b[31mrejected" in text
    plain = ANSI.sub("", text).splitlines()
    expected = io.StringIO()
    PlainRows(expected, 120).header()
    PlainRows(expected, 120).show(CALLS)
    assert [line.rstrip() for line in plain] == expected.getvalue().splitlines()


def test_terminal_rows_keep_the_columns_on_a_narrow_terminal() -> None:
    out = io.StringIO()
    rows = TerminalRows(out, 40)  # narrower than the columns: the lines wrap, as they did before rich
    rows.header()
    rows.show(CALLS[:1])
    lines = ANSI.sub("", out.getvalue()).splitlines()
    assert len(lines) == 2 and lines[1].split() == [*cells(CALLS[0])[:4], "Order", "Completed", "u1", "valid"]


def test_terminal_rows_end_quietly_when_the_reader_left() -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    rows = TerminalRows(Gone(), 120)
    with pytest.raises(BrokenPipeError):  # the command catches it and exits 0, quietly
        rows.header()


def test_terminal_rows_follow_no_color_and_dumb_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    rows = TerminalRows(out, 120)
    rows.header()
    rows.show(CALLS)
    assert out.getvalue().startswith("\x1b[1mID") and "\x1b[3" not in out.getvalue()  # bold, but no colour

    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    out = io.StringIO()
    rows = TerminalRows(out, 120)
    rows.header()
    rows.show(CALLS)
    assert "\x1b" not in out.getvalue()


def test_json_rows_are_the_api_view() -> None:
    out = io.StringIO()
    rows = JsonRows(out)
    rows.header()
    rows.show(CALLS)
    assert [orjson.loads(line) for line in out.getvalue().splitlines()] == CALLS
