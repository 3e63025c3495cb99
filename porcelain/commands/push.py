"""``artvcs push``: send versions, aliases, attributes and runs the remote lacks."""
from __future__ import annotations

import click

from artvcs.sync import pushing, remotes
from artvcs.errors import ConflictError
from artvcs.porcelain.app import context
from artvcs.porcelain.output import emit_json, human_size, json_option, progress_bar
from artvcs.sync.sync import Selection


def split_remote(repo, args: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """``[REMOTE] [REF...]``: the first argument is a remote when one is configured by that name."""
    names = {r.name for r in remotes.list_remotes(repo)}
    if args and args[0] in names:
        return args[0], list(args[1:])
    return None, list(args)


def report_integration(integration, err: bool = False) -> None:
    for line in integration.renumbered:
        click.echo(f"renumbered {line} (the remote had taken the number)", err=err)
    for line in integration.notes:
        click.echo(line, err=err)


@click.command("push")
@json_option
@click.argument("args", nargs=-1, metavar="[REMOTE] [REF...]")
def push(as_json: bool, args: tuple[str, ...]) -> None:
    """Send to REMOTE (default: the only one, or origin) what it lacks: content, then git objects, then refs.

    REF names collections (NAME or ENTITY/PROJECT/NAME; a :selector is
    ignored); without REF every collection is pushed. Run records always go.
    If another clone took a version number meanwhile, the local versions are
    renumbered on top of the remote's.
    """
    repo = context().repo
    name, specs = split_remote(repo, args)
    remote = remotes.open_remote(repo, name)
    with progress_bar():
        result = pushing.push(repo, remote, Selection.of(specs))
    refused = result.integration.refused
    if as_json:
        emit_json({"remote": remote.name, "objects": result.objects, "bytes": result.bytes, "packs": result.packs,
                   "pack_bytes": result.pack_bytes, "refs": result.refs, "renumbered": result.integration.renumbered,
                   "refused": sorted(refused)})
    else:
        report_integration(result.integration)
        if not (result.refs or result.objects):
            click.echo(f"{remote.name}: up to date")
        else:
            click.echo(f"{remote.name}: sent {result.objects} objects ({human_size(result.bytes)}), "
                       f"{result.packs} pack ({human_size(result.pack_bytes)}), {len(result.refs)} refs")
    if refused:
        raise ConflictError("; ".join(refused.values()))
