"""A version named the way users name one: ``[[entity/]project/]name[:alias|:vN|:digest]``,
or a bare commit or digest prefix."""
from __future__ import annotations

import re

from artvcs.core.context import Context
from artvcs.plumbing import refs
from artvcs.plumbing import revparse as _revparse
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.refs import CollectionId

_HEX = re.compile(r"[0-9a-f]{6,64}")


def resolve_version(context: Context, spec: str) -> _versions.Version:
    """The version ``spec`` names in ``context``'s repository (entity and project default to its)."""
    if not isinstance(spec, str):
        raise UsageError(f"invalid artifact name {spec!r}: expected a string like 'name:alias'")
    if _HEX.fullmatch(spec) and not _collection_exists(context, spec):
        return _revparse.resolve_hex(context.repo.git, spec)  # a bare commit or digest prefix
    return _revparse.resolve(context.repo.git, spec, context.entity, context.project)


def _collection_exists(context: Context, name: str) -> bool:
    return refs.read(context.repo.git, CollectionId(context.entity, context.project, name).collection_ref) is not None
