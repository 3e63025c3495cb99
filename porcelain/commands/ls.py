"""``artvcs ls``: the collections and portfolios of the project."""
from __future__ import annotations

import click

from artvcs.logged.listing import collections
from artvcs.porcelain.app import context
from artvcs.porcelain.output import emit_json, json_option, table


@click.command("ls")
@click.option("--type", "type_", default=None, help="Only collections of this type.")
@json_option
def ls(type_: str | None, as_json: bool) -> None:
    """List artifact collections and portfolios with their newest version."""
    ctx = context()
    rows = collections(ctx, type_)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(f"no artifacts in {ctx.entity}/{ctx.project}" + (f" of type {type_}" if type_ else ""), err=True)
        return
    table(["name", "type", "kind", "versions", "latest", "updated"],
          [[r["name"], r["type"], r["kind"], r["versions"], r["latest"] or "-", (r["updated"] or "")[:19]] for r in rows])
