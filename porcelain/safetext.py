"""Text from a remote or a manifest made safe for a terminal: control characters shown, never obeyed.

Descriptions, metadata, aliases, names and paths come from whoever wrote a
version, and through a remote from anyone who can write the bucket. An ESC
sequence in one of them, printed as it is, could move the cursor, clear the
screen or hide the lines before it. The porcelain's output edge
(:func:`escaped_output`, which :func:`cli.main` holds around every command)
therefore shows each C0 control but tab and line feed, DEL, and each C1
control as a Python escape (``\\x1b``), and Unicode's bidirectional overrides
and isolates, which would reorder what follows them on the line, as ``\\u202e``.
``--json`` needs nothing: JSON escapes every control and non-ASCII character
already, so the same edge leaves it unchanged.
A table cell or a one-line error is a single line, so there tab and line feed
are escaped too (:func:`one_line`): a newline in a name cannot forge a row.
"""
from __future__ import annotations

import sys

_C1 = range(0x80, 0xA0)
# Unicode's bidirectional embeddings, overrides and isolates: printed as they are, a name holding one
# reorders what the terminal shows after it ("Trojan Source"), so a path could read as another.
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_KEEP = {"\t", "\n"}
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *_C1) if chr(c) not in _KEEP}
_BIDI_ESCAPES = {c: f"\\u{c:04x}" for c in _BIDI}
_ESCAPES.update(_BIDI_ESCAPES)
_LINE_ESCAPES = {**_ESCAPES, ord("\t"): "\\t", ord("\n"): "\\n"}


def bidi_shown(text: str) -> str:
    """``text`` with its bidi controls written as ``\\uNNNN``: for a web page, where the other
    controls do nothing (the browser shows no escape sequence)."""
    return text.translate(_BIDI_ESCAPES)


def terminal_text(text: str) -> str:
    """``text`` with every control character but tab and line feed written as ``\\xNN`` (bidi ones ``\\uNNNN``)."""
    return text.translate(_ESCAPES)


def one_line(text: str) -> str:
    """``text`` as one line: every control character, tab and line feed included, written as an escape."""
    return text.translate(_LINE_ESCAPES)


class EscapingStream:
    """A text stream that writes :func:`terminal_text` of what it is given to ``stream``.

    Everything else (``buffer`` for binary output, ``isatty``, ``fileno``, ``encoding``, ``flush``) is
    the wrapped stream's, so click and the commands treat it as that stream; bytes are refused
    (TypeError) as a text stream refuses them, which is how click tells text streams from binary."""

    def __init__(self, stream) -> None:
        import re  # (loaded by click already; not at this module's import, which the quick status makes)

        self.unescaped = stream
        self._found = re.compile("[" + "".join(map(chr, _ESCAPES)).replace("\\", "\\\\").replace("]", "\\]") + "]").search
        self._write = stream.write
        # click flushes and asks isatty at every line: the stream's own methods, no frame of ours
        self.flush, self.isatty = stream.flush, stream.isatty

    def write(self, text: str) -> int:
        # A search in C costs ~10x less than translate's lookup per character, and honest text has no
        # control; a str pattern raises TypeError on bytes, as a text stream refuses them.
        if self._found(text):
            self._write(text.translate(_ESCAPES))
        else:
            self._write(text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        if name == "color":  # click asks on every echo (a pager's writer has it): no stream of ours does
            raise AttributeError(name)
        return getattr(self.unescaped, name)


def unescaped(stream):
    """The stream under an :class:`EscapingStream` (for what draws on the terminal itself: progress bars)."""
    return getattr(stream, "unescaped", stream)


class escaped_output:  # noqa: N801 (used as a function: ``with escaped_output():``)
    """Hold :data:`sys.stdout` and :data:`sys.stderr` as :class:`EscapingStream` for the duration (once:
    a command run from within a command, as tests and the server child do, is escaped by the outer one).
    A class, not contextlib's decorator: the launcher's quick status imports this module."""

    def __enter__(self) -> None:
        self.saved = sys.stdout, sys.stderr
        out, err = self.saved
        if not isinstance(out, EscapingStream):
            sys.stdout = EscapingStream(out)
        if not isinstance(err, EscapingStream):
            sys.stderr = EscapingStream(err)

    def __exit__(self, *exc) -> None:
        sys.stdout, sys.stderr = self.saved
