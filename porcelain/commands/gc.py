"""``artvcs gc``: expire versions past their ttl and delete unreachable content."""
from __future__ import annotations

import click

from artvcs.errors import UsageError
from artvcs.git.tracking import pinned_commits
from artvcs.logged import gc as collector
from artvcs.porcelain.app import context
from artvcs.porcelain.output import emit_json, human_size, json_option


@click.command("gc")
@click.option("--dry-run", is_flag=True, help="Report what would be removed; change nothing.")
@click.option("--grace", "grace_hours", default=collector.GRACE_SECONDS / 3600, show_default=True, type=float,
              help="Keep unreachable content younger than this many hours (work in flight).")
@click.option("--remote", "remote_name", default=None, is_flag=False, flag_value="", metavar="[NAME]",
              help="Collect the remote NAME (default: the only one, or origin) instead of the local store.")
@json_option
def gc(dry_run: bool, grace_hours: float, as_json: bool, remote_name: str | None = None) -> None:
    """Expire versions past their ttl, then delete content no live version, alias, link, draft or pin reaches.

    Content younger than the grace period is kept: another process may be
    logging it right now.
    """
    if grace_hours < 0:
        raise UsageError(f"--grace {grace_hours:g}: the grace period cannot be negative")
    if remote_name is not None:
        from artvcs.porcelain.commands.remote import gc_remote

        return gc_remote(remote_name or None, dry_run, grace_hours, as_json)
    ctx = context()
    result = collector.gc(ctx, pinned_commits(ctx), dry_run=dry_run, grace_seconds=grace_hours * 3600)
    if as_json:
        emit_json({"dry_run": dry_run, "expired": result.expired, "removed": len(result.removed),
                   "freed_bytes": result.freed_bytes, "kept_young": result.kept_young, "reachable": result.reachable,
                   "leftovers": result.leftovers, "repacked": result.repacked,
                   "rewritten_chunk_packs": result.rewritten_packs, "kept_busy": result.kept_busy,
                   "pruned_sums": result.pruned_sums})
        return
    verb = "would remove" if dry_run else "removed"
    for name in result.expired:
        click.echo(f"{'would expire' if dry_run else 'expired'} {name}")
    click.echo(f"{verb} {len(result.removed)} objects ({human_size(result.freed_bytes)}); "
               f"kept {result.reachable} reachable and {result.kept_young} younger than {grace_hours:g} h")
    if result.repacked:
        click.echo(f"{'would merge' if dry_run else 'merged'} {result.repacked} packs of git objects into one")
    if result.rewritten_packs:
        click.echo(f"{'would rewrite' if dry_run else 'rewrote'} {result.rewritten_packs} partly dead chunk packs")
    if result.kept_busy:
        click.echo(f"left {result.kept_busy} chunk lists and packs for the next gc: other artvcs processes were "
                   "reading or writing chunks")
