"""``artvcs rev-parse``: resolve a version name to its commit."""
from __future__ import annotations

import re

import click

from artvcs.plumbing import revparse

from .options import emit, namespace, namespace_options, repo

_HEX = re.compile(r"[0-9a-f]{6,64}")


@click.command("rev-parse")
@namespace_options
@click.argument("spec")
def rev_parse(entity: str | None, project: str | None, spec: str) -> None:
    """Resolve a version name to its commit.

    SPEC is [entity/project/]name[:alias|:vN|:digest-prefix], or a bare
    commit or digest prefix.
    """
    r = repo()
    e, p = namespace(r, entity, project)
    if _HEX.fullmatch(spec) and not _is_name(r, spec, e, p):
        v = revparse.resolve_hex(r.git, spec)
    else:
        v = revparse.resolve(r.git, spec, e, p)
    emit([(v.commit, v.collection, f"v{v.number}", v.facts.get("digest", ""))])


def _is_name(r, spec: str, e: str, p: str) -> bool:
    from artvcs.plumbing.refs import CollectionId

    return r.git.references.get(CollectionId(e, p, spec).collection_ref) is not None
