"""``artvcs ls``: the collections and portfolios of the repository, its default project first."""
from __future__ import annotations

from itertools import groupby

import click

from artvcs.logged.listing import collections
from artvcs.porcelain.app import context
from artvcs.porcelain.output import emit_json, json_option, table


@click.command("ls")
@click.option("--type", "type_", default=None, help="Only collections of this type.")
@click.option("--here", is_flag=True, help="Only the default project (or $ARTVCS_ENTITY/$ARTVCS_PROJECT's).")
@json_option
def ls(type_: str | None, here: bool, as_json: bool) -> None:
    """List artifact collections and portfolios with their newest version.

    The default project comes first; every other project the repository
    holds follows, under a line naming it.
    """
    ctx = context()
    rows = collections(ctx, type_, every_project=not here)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        where = f"{ctx.entity}/{ctx.project}" if here else f"this repository (default project {ctx.entity}/{ctx.project})"
        click.echo(f"no artifacts in {where}" + (f" of type {type_}" if type_ else ""), err=True)
        return
    first = True
    for (entity, project), group in groupby(rows, key=lambda r: (r["entity"], r["project"])):
        if (entity, project) != (ctx.entity, ctx.project):
            click.echo(("" if first else "\n") + f"in project {entity}/{project}:")
        elif not first or len({(r["entity"], r["project"]) for r in rows}) > 1:
            click.echo(f"in project {entity}/{project} (default):")
        table(["name", "type", "kind", "versions", "latest", "updated"],
              [[r["name"], r["type"], r["kind"], r["versions"], r["latest"] or "-", (r["updated"] or "")[:19]] for r in group])
        first = False
