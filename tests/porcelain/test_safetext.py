"""The porcelain's output edge: control characters in what a command prints are shown as escapes, on a
terminal too (where click would pass them through), while JSON, binary output and progress bars are
left as they are. Fuzzed: whatever the text, nothing it writes is a control character but tab and newline."""
from __future__ import annotations

import io
import json
import sys

import click
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.porcelain.safetext import EscapingStream, escaped_output, one_line, terminal_text, unescaped
from artvcs.porcelain.statustext import lines
from artvcs.porcelain.text import json_text, table_lines

CONTROLS = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


class Terminal(io.StringIO):
    """A text stream that says it is a terminal (click then keeps ANSI sequences)."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_an_esc_sequence_is_shown_not_obeyed():
    term = Terminal()
    click.echo("desc: \x1b[2J\x1b]0;title\x07 \x9b31m\rX\tY", file=EscapingStream(term))
    assert term.getvalue() == "desc: \\x1b[2J\\x1b]0;title\\x07 \\x9b31m\\x0dX\tY\n"


def test_a_bidi_override_in_a_name_is_shown_not_obeyed():
    """'Trojan Source': U+202E would show 'data/\u202etxt.exe' as 'data/exe.txt'."""
    term = Terminal()
    click.echo("data/\u202etxt.exe \u2066x\u2069 \u200f\u05d0", file=EscapingStream(term))
    assert term.getvalue() == "data/\\u202etxt.exe \\u2066x\\u2069 \u200f\u05d0\n"  # marks and Hebrew stay
    assert one_line("a\u202eb\n") == "a\\u202eb\\n"


def test_honest_text_is_unchanged_and_json_is_never_touched():
    honest = "mnist:v3  café ✓ 数据\tsize\nnext line"
    assert terminal_text(honest) == honest
    data = {"description": "\x1b[2J\x9b\x00", "path": "é/\u2028\u202e"}
    assert terminal_text(json_text(data)) == json_text(data)
    assert json.loads(terminal_text(json_text(data))) == data


def test_binary_output_and_progress_bars_pass_through():
    raw = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    stream = EscapingStream(raw)
    click.echo(b"\x1b[2J\x00bytes", file=stream)  # cat-object and friends write bytes: untouched
    assert raw.buffer.getvalue() == b"\x1b[2J\x00bytes\n"
    assert unescaped(stream) is raw and unescaped(raw) is raw


def test_the_edge_wraps_stdout_and_stderr_once_and_puts_them_back():
    out, err = sys.stdout, sys.stderr
    with escaped_output():
        inner = sys.stdout
        assert isinstance(inner, EscapingStream) and isinstance(sys.stderr, EscapingStream)
        with escaped_output():
            assert sys.stdout is inner
    assert (sys.stdout, sys.stderr) == (out, err)


def test_one_line_texts_cannot_forge_lines_or_rows():
    assert one_line("a\nb\tc\x1b") == "a\\nb\\tc\\x1b"
    rows = table_lines(["name", "description"], [["ds", "fine\n  extra   forged row"]])
    assert len(rows) == 2 and "\\n" in rows[1]
    shown = lines([{"path": "co/", "version": "me/p/ds:v0", "how": "checkout", "state": "modified",
                    "changes": [{"path": "a\x1b[8m", "problem": "modified"}], "detail": "x\ny"}])
    assert all(not (set(line) & CONTROLS) for line in shown) and len(shown) == 4


def test_a_cli_error_quoting_hostile_text_is_one_escaped_line(cli):
    code, out, err = cli("show", "no\x9bsuch\x7f:v0")
    assert code != 0 and err.count("\n") == 1 and not (set(err) & CONTROLS - {"\n"}), err


@settings(max_examples=300)
@given(st.text())
def test_fuzzed_text_writes_no_control_but_tab_and_newline(text):
    term = Terminal()
    EscapingStream(term).write(text)
    assert not (set(term.getvalue()) & (CONTROLS - {"\t", "\n"}))
    assert not (set(one_line(text)) & CONTROLS)
