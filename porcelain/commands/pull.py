"""``artvcs pull``: take the remote's versions, aliases, attributes and runs, and their content."""
from __future__ import annotations

import click

from artvcs.sync import remotes, sync
from artvcs.porcelain.app import context
from artvcs.porcelain.commands.push import report_integration, split_remote
from artvcs.porcelain.output import emit_json, human_size, json_option, progress_bar


@click.command("pull")
@click.option("--no-content", is_flag=True, help="Take refs and manifests only; content is fetched when a checkout needs it.")
@json_option
@click.argument("args", nargs=-1, metavar="[REMOTE] [REF...]")
def pull(no_content: bool, as_json: bool, args: tuple[str, ...]) -> None:
    """Bring REMOTE's changes here: new versions, moved aliases, edits, runs, and the live versions' content.

    Local versions the remote lacks are kept; if the remote numbered others
    meanwhile, the local ones are renumbered on top. An alias moved both
    here and there keeps the local move (push applies it after the remote's).
    """
    repo = context().repo
    name, specs = split_remote(repo, args)
    rc = remotes.get_remote(repo, name)
    remote = remotes.open_remote(repo, rc.name)
    with progress_bar():
        result = sync.pull(repo, remote, sync.Selection.of(specs or rc.only), with_content=not (no_content or (rc.only and not specs)))
    if as_json:
        emit_json({"remote": remote.name, "objects": result.objects, "bytes": result.bytes, "packs": result.packs,
                   "refs": sorted(set(result.integration.updated)), "renumbered": result.integration.renumbered,
                   "notes": result.integration.notes})
        return
    if result.empty:
        click.echo(f"{remote.name}: empty (nothing pushed yet)")
        return
    report_integration(result.integration)
    click.echo(f"{remote.name}: {len(set(result.integration.updated))} refs updated, {result.packs} packs, "
               f"{result.objects} objects ({human_size(result.bytes)})")
