"""``artvcs versions``: the versions of one collection."""
from __future__ import annotations

import click

from artvcs.porcelain.app import api, complete_ref, summary
from artvcs.porcelain.output import emit_json, human_size, json_option, table


@click.command("versions")
@json_option
@click.argument("name", shell_complete=complete_ref)
def versions(as_json: bool, name: str) -> None:
    """List the live versions of collection NAME, oldest first."""
    arts = api().collection(name).artifacts()
    if as_json:
        emit_json([summary(x) for x in arts])
        return
    table(["version", "aliases", "created", "author", "files", "size", "digest", "description"],
          [[x.version, ",".join(x.aliases), x.created_at[:19], x.author["name"], x.file_count, human_size(x.size), x.digest[:12],
            (x.description or "").splitlines()[0] if x.description else ""] for x in arts])
