"""``artvcs gc``: expire versions past their ttl and delete unreachable content."""
from __future__ import annotations

import click

from artvcs import gc as collector
from artvcs.porcelain.app import api
from artvcs.porcelain.output import emit_json, human_size, json_option


@click.command("gc")
@click.option("--dry-run", is_flag=True, help="Report what would be removed; change nothing.")
@click.option("--grace", "grace_hours", default=collector.GRACE_SECONDS / 3600, show_default=True, type=float,
              help="Keep unreachable content younger than this many hours (work in flight).")
@json_option
def gc(dry_run: bool, grace_hours: float, as_json: bool) -> None:
    """Delete content no live version, alias, link, draft or pin reaches."""
    from artvcs.tracking import pinned_commits

    ctx = api()._context
    result = collector.gc(ctx, dry_run=dry_run, grace_seconds=grace_hours * 3600, pins=pinned_commits(ctx))
    if as_json:
        emit_json({"dry_run": dry_run, "expired": result.expired, "removed": len(result.removed),
                   "freed_bytes": result.freed_bytes, "kept_young": result.kept_young, "reachable": result.reachable})
        return
    verb = "would remove" if dry_run else "removed"
    for name in result.expired:
        click.echo(f"expired {name}")
    click.echo(f"{verb} {len(result.removed)} objects ({human_size(result.freed_bytes)}); "
               f"kept {result.reachable} reachable and {result.kept_young} younger than {grace_hours:g} h")
