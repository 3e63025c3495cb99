"""Printing for people and for scripts: tables sized to the terminal, sizes, ``--json``."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import click

from artvcs.porcelain.text import json_text, table_lines

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys) instead of a table.")


def emit_json(data: Any) -> None:
    click.echo(json_text(data))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Left-aligned columns; the last column is cut to the terminal's width (:func:`text.table_lines`)."""
    for line in table_lines(headers, rows):
        click.echo(line)


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
