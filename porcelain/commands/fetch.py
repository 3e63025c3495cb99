"""``artvcs fetch``: bring the remote's git objects here and show what differs; change nothing local."""
from __future__ import annotations

import click

from artvcs.sync import remotes, sync
from artvcs.porcelain.app import context
from artvcs.porcelain.commands.push import split_remote
from artvcs.porcelain.output import emit_json, json_option, progress_bar


@click.command("fetch")
@json_option
@click.argument("args", nargs=-1, metavar="[REMOTE] [REF...]")
def fetch(as_json: bool, args: tuple[str, ...]) -> None:
    """Download REMOTE's new packs (manifests, versions, runs) and list the refs that differ from local ones.

    No local ref and no content changes; 'artvcs pull' takes the changes.
    """
    repo = context().repo
    name, specs = split_remote(repo, args)
    rc = remotes.get_remote(repo, name)
    remote = remotes.open_remote(repo, rc.name)
    with progress_bar():
        view, differ = sync.fetch(repo, remote, sync.Selection.of(specs or rc.only))
    if as_json:
        emit_json({"remote": remote.name, "packs": view.packs_fetched, "differ": differ})
        return
    for ref in differ:
        click.echo(f"{view.refs[ref]}\t{ref}")
    click.echo(f"{remote.name}: {view.packs_fetched} packs fetched, {len(differ)} refs differ from local ones", err=True)
