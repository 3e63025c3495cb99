"""``artvcs remote``: add, remove and list the remotes a repository pushes to and pulls from."""
from __future__ import annotations

import click

from artvcs.sync import remotes
from artvcs.porcelain.app import context
from artvcs.porcelain.output import emit_json, json_option, table
from artvcs.porcelain.vocabulary import Group
from artvcs.porcelain.reports import remote_json, remote_list_report


@click.group("remote", cls=Group, invoke_without_command=True)
@json_option
@click.pass_context
def remote(ctx: click.Context, as_json: bool) -> None:
    """Add, remove or list remotes (s3://, gs://, az://, file:// URLs); alone, list them.

    Each verb has both spellings: list or ls, remove or rm.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_, as_json=as_json)


@remote.command("add")
@click.option("--endpoint-url", default=None,
              help="Server to talk to instead of the cloud's own (http://host:port): an S3-compatible server, or a GCS emulator.")
@click.option("--region", default=None, help="Region of the bucket (S3).")
@click.option("--profile", default=None, help="Named profile of the backend's own configuration (S3: ~/.aws).")
@json_option
@click.argument("name")
@click.argument("url")
def add(endpoint_url: str | None, region: str | None, profile: str | None, as_json: bool, name: str, url: str) -> None:
    """Add remote NAME at URL. Credentials are never stored: they come from the environment."""
    from artvcs.plumbing.remote.guarantees import caveat
    from artvcs.plumbing.remote.layout import parse_url

    rc = remotes.add_remote(context().repo, name, url, {"endpoint_url": endpoint_url, "region": region, "profile": profile})
    note = caveat(parse_url(rc.url)[0], rc.options)
    if note:
        click.echo(f"note: {note}", err=True)
    if as_json:
        emit_json(remote_json(rc))
    else:
        click.echo(f"added remote {rc.name} {rc.url}")


@remote.command("remove")
@json_option
@click.argument("name")
def remove(as_json: bool, name: str) -> None:
    """Remove remote NAME (the remote itself is not touched)."""
    remotes.remove_remote(context().repo, name)
    if as_json:
        emit_json({"name": name, "removed": True})
    else:
        click.echo(f"removed remote {name}")


@remote.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List remotes: name, URL and settings."""
    repo = context().repo
    if as_json:
        emit_json(remote_list_report(repo))
        return
    found = remotes.list_remotes(repo)
    table(["name", "url", "settings"], [
        (r.name, r.url, " ".join(f"{k}={v}" for k, v in sorted(r.options.items())) + (f" only={','.join(r.only)}" if r.only else ""))
        for r in found
    ])


def gc_remote(name: str | None, dry_run: bool, grace_hours: float, as_json: bool) -> None:
    """``artvcs gc --remote [NAME]``: delete remote content nothing reaches (called by the gc command)."""
    from artvcs.sync.remote_gc import remote_gc
    from artvcs.plumbing.remote import inflight
    from artvcs.git.tracking import pinned_commits
    from artvcs.porcelain.output import human_size

    ctx = context()
    remote_repo = remotes.open_remote(ctx.repo, name)
    result = remote_gc(ctx.repo, remote_repo, grace_hours * 3600, dry_run, pinned_commits(ctx))
    if as_json:
        emit_json({"remote": remote_repo.name, "dry_run": dry_run, "removed": len(result.removed),
                   "freed_bytes": result.freed_bytes, "kept_young": result.kept_young, "reachable": result.reachable,
                   "rewritten_chunk_packs": result.rewritten_packs, "busy_pushes": result.busy_pushes,
                   "out_of_time": result.out_of_time})
        return
    if result.busy_pushes:
        click.echo(f"{remote_repo.name}: removed nothing: {result.busy_pushes} push(es) under way; "
                   "run 'artvcs gc --remote' again once they end")
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{remote_repo.name}: {verb} {len(result.removed)} objects ({human_size(result.freed_bytes)}); "
               f"kept {result.reachable} reachable and {result.kept_young} younger than {grace_hours:g} h")
    if result.rewritten_packs:
        click.echo(f"{remote_repo.name}: {'would rewrite' if dry_run else 'rewrote'} {result.rewritten_packs} "
                   "partly dead chunk packs")
    if result.out_of_time:
        click.echo(f"{remote_repo.name}: stopped removing after {inflight.GC_BUDGET / 60:g} minutes (pushes may be "
                   "waiting for it); run 'artvcs gc --remote' again for the rest")
