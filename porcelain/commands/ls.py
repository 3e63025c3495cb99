"""``artvcs ls``: the collections of the project."""
from __future__ import annotations

import click

from artvcs.plumbing import versions
from artvcs.porcelain.app import api
from artvcs.porcelain.output import emit_json, json_option, table


@click.command("ls")
@click.option("--type", "type_", default=None, help="Only collections of this type.")
@json_option
def ls(type_: str | None, as_json: bool) -> None:
    """List artifact collections and portfolios with their newest version."""
    a = api()
    ctx = a._context
    rows = []
    for coll in versions.iter_collections(ctx.repo.git, ctx.entity, ctx.project):
        newest = versions.latest(ctx.repo.git, coll)
        tip = versions.collection_tip(ctx.repo.git, coll)
        t = tip.facts.get("type") if tip else None
        if type_ and t != type_:
            continue
        rows.append({
            "name": coll.name,
            "type": t,
            "kind": "portfolio" if tip and tip.kind == "link" else "collection",
            "versions": len(versions.live_numbers(ctx.repo.git, coll)),
            "latest": f"v{newest.number}" if newest else None,
            "size": newest.facts.get("size") if newest else None,
            "updated": newest.facts.get("created_at") if newest else None,
        })
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(f"no artifacts in {ctx.entity}/{ctx.project}" + (f" of type {type_}" if type_ else ""), err=True)
        return
    table(["name", "type", "kind", "versions", "latest", "updated"],
          [[r["name"], r["type"], r["kind"], r["versions"], r["latest"], (r["updated"] or "")[:19]] for r in rows])
