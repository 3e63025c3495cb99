"""What porcelain commands print, made as text without click: JSON and terminal-sized tables.

:mod:`output` prints these through click; the launcher (:mod:`launch`)
prints them itself, so that an up-to-date ``artvcs status`` never loads
click and still prints exactly what the click command would.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from typing import Any


def json_text(data: Any) -> str:
    """The JSON a porcelain command prints (stable keys, sorted, indented); the web view serves the same."""
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def table_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """Left-aligned columns, a line each (headers upper-cased first); the last column is cut to
    the terminal's width. No rows: no lines."""
    rows = [["" if v is None else str(v) for v in r] for r in rows]
    if not rows:
        return []
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    total = shutil.get_terminal_size((120, 24)).columns
    lead = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(len(headers[-1]), min(widths[-1], total - lead)) if total > lead + 8 else widths[-1]

    def line(cells: Sequence[str]) -> str:
        out = [c.ljust(w) if i < len(cells) - 1 else (c if len(c) <= w else c[: max(1, w - 1)] + "…") for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    return [line([h.upper() for h in headers])] + [line(r) for r in rows]
