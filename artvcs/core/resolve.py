"""A version named the way users name one: ``[[entity/]project/]name[:alias|:vN|:digest]``,
or a bare commit or digest prefix.

A short name (no project) means the collection in the context's project;
when that project has no such collection but exactly one other project of
the repository has, it means that one, and when several have, it is an error
listing them. The CLI and ``Api()`` both resolve through here, so they agree.
"""
from __future__ import annotations

import re

from artvcs.core.context import Context
from artvcs.errors import ArtifactNotFoundError
from artvcs.plumbing import refs
from artvcs.plumbing import revparse as _revparse
from artvcs.plumbing import runs as _runs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import NotFoundError, UsageError
from artvcs.plumbing.refs import CollectionId

_HEX = re.compile(r"[0-9a-f]{6,64}")


def resolve_version(context: Context, spec: str) -> _versions.Version:
    """The version ``spec`` names in ``context``'s repository (entity and project default to its)."""
    if not isinstance(spec, str):
        raise UsageError(f"invalid artifact name {spec!r}: expected a string like 'name:alias'")
    if _HEX.fullmatch(spec) and not _candidates(context, spec):
        return _revparse.resolve_hex(context.repo.git, spec)  # a bare commit or digest prefix
    coll, selector = _revparse.split_spec(spec, context.entity, context.project)
    if "/" not in spec.partition(":")[0]:
        coll = _locate_short(context, coll)
    try:
        return _revparse.resolve_in(context.repo.git, coll, selector or "latest", spec)
    except NotFoundError as e:
        if not _project_exists(context, coll.entity, coll.project):  # W&B's client-side check, its text first
            raise ArtifactNotFoundError(f"project '{coll.project}' not found under entity '{coll.entity}': {e}") from None
        if isinstance(e, ArtifactNotFoundError):
            raise
        raise ArtifactNotFoundError(str(e)) from None  # also W&B's CommError, which user code catches


def _project_exists(context: Context, entity: str, project: str) -> bool:
    """True if the project has a collection or a run (W&B's server knows a project by either)."""
    git = context.repo.git
    return (next(iter(_versions.iter_collections(git, entity, project)), None) is not None
            or next(_runs.iter_runs(git, entity, project), None) is not None)


def collection_for(context: Context, name: str) -> CollectionId:
    """The collection ``[[entity/]project/]name`` (no selector) names, short names located as above."""
    coll, selector = _revparse.split_spec(name, context.entity, context.project)
    if selector is not None:
        raise UsageError(f"{name!r} names a version; give the collection as [[entity/]project/]name")
    return _locate_short(context, coll) if "/" not in name else coll


def _exists(context: Context, coll: CollectionId) -> bool:
    git = context.repo.git
    return refs.read(git, coll.collection_ref) is not None or _versions.version_commit(git, coll, 0) is not None


def _candidates(context: Context, name: str) -> list[CollectionId]:
    return [c for c in _versions.iter_collections(context.repo.git) if c.name == name]


def _locate_short(context: Context, coll: CollectionId) -> CollectionId:
    if _exists(context, coll):
        return coll
    found = _candidates(context, coll.name)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        listed = ", ".join(f"{c.entity}/{c.project}/{c.name}" for c in found)
        raise UsageError(f"artifact name {coll.name!r} is ambiguous: not in {context.entity}/{context.project} but in "
                         f"{len(found)} other projects ({listed}); give one of these")
    return coll  # absent everywhere: the caller's not-found error names the default project
