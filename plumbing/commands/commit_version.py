"""``artvcs commit-version``: make a manifest tree the next version of a collection.

The facts are built by :func:`versions.version_facts`, the one definition
the Python binding uses too, so a version made here is indistinguishable
from one logged through the binding.
"""
from __future__ import annotations

import json

import click

from artvcs.plumbing import manifest, versions
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.names import check_name, check_type
from artvcs.plumbing.refs import CollectionId

from .ls_manifest import manifest_tree
from .options import emit, namespace, namespace_options, repo


MAX_METADATA_KEYS = 100  # the W&B rule, as artvcs/core/validation.py applies it


def _metadata(text: str | None) -> dict:
    """The --metadata-json object, or a UsageError naming the value and the rule."""
    if text is None:
        return {}
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as err:
        raise UsageError(f"--metadata-json {text[:40]!r} is not JSON: {err}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--metadata-json {text[:40]!r} must be a JSON object")
    if len(value) > MAX_METADATA_KEYS:
        raise UsageError(f"--metadata-json has {len(value)} keys: at most {MAX_METADATA_KEYS} are allowed")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


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
    metadata = _metadata(metadata_json)
    oid = manifest_tree(r, tree, entity, project)
    digest, size, count = manifest.summarize(manifest.iter_entries(r.git, oid))
    run = {"entity": coll.entity, "project": coll.project, "id": check_name(run_id, "run id")} if run_id else None
    facts = versions.version_facts(type_, digest, size, count, run=run, description=description, metadata=metadata)
    v = versions.commit_version(r.git, coll, oid, facts, sync_path=r.gitdir)
    emit([(v.commit, f"v{v.number}")])
