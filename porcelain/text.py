"""What porcelain commands print, made as text without click: JSON and terminal-sized tables.

:mod:`output` prints these through click; the launcher (:mod:`launch`)
prints them itself, so that an up-to-date ``artvcs status`` never loads
click and still prints exactly what the click command would.
"""
from __future__ import annotations

import os
import sys

from artvcs.porcelain.safetext import one_line

TYPE_CHECKING = False  # typing is not imported: it costs an up-to-date status's start-up
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any


def json_text(data: Any) -> str:
    """The JSON a porcelain command prints (stable keys, sorted, indented); the web view serves the same."""
    import json  # only --json needs it (start-up of an up-to-date status)

    return json.dumps(data, indent=2, sort_keys=True, default=str)


def os_error_line(e: OSError) -> str:
    """The one stderr line for an OS error on a file (the CLI's and the launcher's): why, and which."""
    where = f": {e.filename}" if e.filename else ""
    return one_line(f"artvcs: error: {e.strerror or e}{where}")


def terminal_columns(fallback: int) -> int:
    """The terminal's width as ``shutil.get_terminal_size`` tells it (COLUMNS when a positive integer,
    else the terminal of sys.__stdout__, else ``fallback``): shutil's imports (bz2, lzma, fnmatch)
    would cost an up-to-date status's start-up more than its table."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or fallback
    except (AttributeError, ValueError, OSError):
        return fallback


def table_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """Left-aligned columns, a line each (headers upper-cased first); the last column is cut to
    the terminal's width. No rows: no lines."""
    rows = [["" if v is None else one_line(str(v)) for v in r] for r in rows]  # a cell is one line
    if not rows:
        return []
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    total = terminal_columns(120)
    lead = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(len(headers[-1]), min(widths[-1], total - lead)) if total > lead + 8 else widths[-1]

    def line(cells: Sequence[str]) -> str:
        out = [c.ljust(w) if i < len(cells) - 1 else (c if len(c) <= w else c[: max(1, w - 1)] + "…") for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    return [line([h.upper() for h in headers])] + [line(r) for r in rows]
