"""``artvcs init``: create a repository and record its default namespace."""
from __future__ import annotations

import os

import click

from artvcs.plumbing.repository import DIRNAME, FORMAT_FILE, init_repository
from artvcs.porcelain.output import emit_json, json_option


@click.command("init")
@click.option("--entity", default=None, help="Default entity to record (else derived once: git's user.name or the OS user).")
@click.option("--project", default=None, help="Default project to record (else derived once: the folder's name).")
@json_option
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(entity: str | None, project: str | None, as_json: bool, directory: str) -> None:
    """Create an empty repository in DIRECTORY/.artifacts and record its default namespace.

    The namespace (entity/project) that names without one resolve in is
    recorded in the repository once, here, and carried by clone; it never
    follows the folder's name or who is typing. On an existing repository,
    --entity or --project change the recorded default (with history).
    """
    existed = os.path.exists(os.path.join(directory, DIRNAME, FORMAT_FILE))
    repo = init_repository(directory, entity, project)
    ns, _ = repo.recorded_namespace()
    if as_json:
        emit_json({"path": os.path.abspath(repo.gitdir), "created": not existed, "entity": ns.entity, "project": ns.project})
        return
    verb = "Reinitialized existing" if existed else "Initialized empty"
    click.echo(f"{verb} artvcs repository in {repo.gitdir}")
    click.echo(f"default namespace: {ns} (change it with 'artvcs config set project NAME')")
