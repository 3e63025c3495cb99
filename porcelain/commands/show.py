"""``artvcs show``: one version in detail."""
from __future__ import annotations

import json

import click

from artvcs.porcelain.app import artifact, ref_argument, summary
from artvcs.porcelain.output import emit_json, human_size, json_option


@click.command("show")
@click.option("--files", "list_files", is_flag=True, help="Also list every entry.")
@json_option
@ref_argument()
def show(list_files: bool, as_json: bool, ref: str) -> None:
    """Show a version: facts, attributes, aliases, lineage and (with --files) entries."""
    a = artifact(ref)
    data = summary(a)
    run = a.logged_by()
    data["logged_by"] = run.path if run else None
    if list_files:
        data["files"] = [_file_json(e) for _, e in sorted(a.manifest.entries.items())]
    if as_json:
        emit_json(data)
        return
    click.echo(f"{a.qualified_name}  ({a.type}, {a.state.lower()})")
    if a.source_qualified_name != a.qualified_name:
        click.echo(f"  source:      {a.source_qualified_name}")
    click.echo(f"  aliases:     {', '.join(a.aliases) or '-'}")
    click.echo(f"  digest:      {a.digest}")
    click.echo(f"  commit:      {a.commit_hash}")
    click.echo(f"  files:       {a.file_count} ({human_size(a.size)})")
    click.echo(f"  created:     {a.created_at}   updated: {a.updated_at}")
    click.echo(f"  logged by:   {data['logged_by'] or '-'}")
    if a.ttl:
        click.echo(f"  ttl:         {a.ttl}")
    if a.description:
        click.echo(f"  description: {a.description}")
    if a.metadata:
        click.echo("  metadata:    " + json.dumps(a.metadata, sort_keys=True))
    for e in data.get("files", []):
        click.echo(f"    {human_size(e['size']):>10}  {e['path']}" + (f"  -> {e['ref']}" if e.get("ref") else ""))


def _file_json(e) -> dict:
    """One entry as ``show --json`` has always printed it (path, digest, size; ref and extra when set)."""
    d = {"path": e.path, "digest": e.digest, "size": e.size}
    if e.ref is not None:
        d["ref"] = e.ref
    if e.extra:
        d["extra"] = e.extra
    return d
