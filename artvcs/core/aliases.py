"""Aliases: mutable names for one version of a collection.

Each alias is a ref moved by compare-and-swap, so two writers never lose a
move and the reflog is the alias's history. ``latest`` is managed: it names
the newest live version, or the older one whose content was logged again
since (plumbing.versions.latest), never a deleted one, and users may neither
add nor move it.
"""
from __future__ import annotations

import pygit2

from artvcs.plumbing import refs, versions
from artvcs.plumbing.errors import ConflictError
from artvcs.plumbing.names import check_alias, decode_component
from artvcs.plumbing.refs import CollectionId

LATEST = "latest"
MAX_ATTEMPTS = 100


def stored_aliases(repo: pygit2.Repository, coll: CollectionId) -> dict[str, pygit2.Oid]:
    """Every stored alias of ``coll`` and the commit it names."""
    prefix = coll.aliases_prefix
    return {decode_component(n[len(prefix):]): oid for n, oid in refs.iter_refs(repo, prefix)}


def aliases_of(repo: pygit2.Repository, version: versions.Version) -> list[str]:
    """The aliases naming ``version`` in its own collection, ``latest`` included."""
    names = sorted(a for a, oid in stored_aliases(repo, version.collection).items() if oid == version.commit)
    newest = versions.latest(repo, version.collection)
    if newest is not None and newest.commit == version.commit:
        names.insert(0, LATEST)
    return names


def move_alias(repo: pygit2.Repository, coll: CollectionId, alias: str, commit: pygit2.Oid, why: str) -> None:
    """Point ``alias`` at ``commit`` wherever it was (compare-and-swap, retried on a lost race)."""
    check_alias(alias)
    try:
        refs.move(repo, coll.alias_ref(alias), commit, why, MAX_ATTEMPTS)
    except ConflictError:
        raise ConflictError(f"could not move alias {alias!r} of {coll}: too many concurrent moves; retry") from None


def remove_alias(repo: pygit2.Repository, coll: CollectionId, alias: str, commit: pygit2.Oid, why: str) -> bool:
    """Delete ``alias`` if it still names ``commit``; False if it had moved on."""
    name = coll.alias_ref(alias)
    current = refs.read(repo, name)
    if current != commit:
        return False
    try:
        refs.update(repo, name, None, current, why)
    except ConflictError:
        return False
    return True


def check_user_aliases(values: list[str]) -> list[str]:
    """Validate aliases a user asks for (``latest`` tolerated: it is applied automatically)."""
    return [check_alias(a) for a in values if a != LATEST]
