"""``artvcs init``: create a repository."""
from __future__ import annotations

import os

import click

from artvcs.plumbing import config
from artvcs.plumbing.names import check_name
from artvcs.plumbing.repository import DIRNAME, FORMAT_FILE, init_repository
from artvcs.porcelain.output import emit_json, json_option


@click.command("init")
@click.option("--entity", default=None, help="Default entity to record in .artifacts/config.yaml.")
@click.option("--project", default=None, help="Default project to record in .artifacts/config.yaml.")
@json_option
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(entity: str | None, project: str | None, as_json: bool, directory: str) -> None:
    """Create an empty repository in DIRECTORY/.artifacts (or open an existing one)."""
    existed = os.path.exists(os.path.join(directory, DIRNAME, FORMAT_FILE))
    repo = init_repository(directory)
    if entity or project:
        data = config.load(repo.config_path)
        if entity:
            data["entity"] = check_name(entity, "entity")
        if project:
            data["project"] = check_name(project, "project")
        config.save(repo.config_path, data)
    if as_json:
        emit_json({"path": os.path.abspath(repo.gitdir), "created": not existed,
                   "entity": config.default_entity(repo.config_path),
                   "project": config.default_project(repo.config_path, repo.worktree)})
        return
    verb = "Reinitialized existing" if existed else "Initialized empty"
    click.echo(f"{verb} artvcs repository in {repo.gitdir}")
