"""``artvcs commit-version``: make a manifest tree the next version of a collection."""
from __future__ import annotations

import json

import click

from artvcs.plumbing import manifest, versions
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.names import check_name, check_type
from artvcs.plumbing.refs import CollectionId

from .ls_manifest import manifest_tree
from .options import emit, namespace, namespace_options, repo


@click.command("commit-version")
@click.option("--name", required=True, help="Collection (artifact) name.")
@click.option("--type", "type_", required=True, help="Artifact type; must match the collection's.")
@click.option("--description", default=None, help="Initial description.")
@click.option("--metadata-json", default=None, metavar="JSON", help="Initial metadata, a JSON object.")
@click.option("--run-id", default=None, help="Id of the run that logged this version.")
@namespace_options
@click.argument("tree")
def commit_version(name: str, type_: str, description: str | None, metadata_json: str | None, run_id: str | None,
                   entity: str | None, project: str | None, tree: str) -> None:
    """Commit manifest TREE as the next version of a collection."""
    r = repo()
    e, p = namespace(r, entity, project)
    coll = CollectionId(check_name(e, "entity"), check_name(p, "project"), check_name(name))
    check_type(type_)
    metadata = {}
    if metadata_json is not None:
        try:
            metadata = json.loads(metadata_json)
        except ValueError as err:
            raise UsageError(f"--metadata-json {metadata_json[:40]!r} is not JSON: {err}") from None
        if not isinstance(metadata, dict):
            raise UsageError("--metadata-json must be a JSON object")
    oid = manifest_tree(r, tree, entity, project)
    digest, size, count = manifest.summarize(manifest.iter_entries(r.git, oid))
    run = {"entity": coll.entity, "project": coll.project, "id": run_id} if run_id else None
    facts = versions.version_facts(type_, digest, size, count, run=run, description=description, metadata=metadata)
    v = versions.commit_version(r.git, coll, oid, facts, sync_path=r.gitdir)
    emit([(v.commit, f"v{v.number}")])
