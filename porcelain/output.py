"""Printing for people and for scripts: tables sized to the terminal, sizes, ``--json``."""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys) instead of a table.")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Left-aligned columns; the last column is cut to the terminal's width."""
    rows = [["" if v is None else str(v) for v in r] for r in rows]
    if not rows:
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    total = shutil.get_terminal_size((120, 24)).columns
    lead = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(len(headers[-1]), min(widths[-1], total - lead)) if total > lead + 8 else widths[-1]

    def line(cells: Sequence[str]) -> str:
        out = [c.ljust(w) if i < len(cells) - 1 else (c if len(c) <= w else c[: max(1, w - 1)] + "…") for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    click.echo(line([h.upper() for h in headers]))
    for r in rows:
        click.echo(line(r))


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
