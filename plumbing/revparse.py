"""Resolving ``[entity/project/]name[:alias|:vN|:digest]`` to a version."""
from __future__ import annotations

import re

import pygit2

from . import refs, versions
from .errors import NotFoundError, UsageError
from .names import VERSION_RE, check_name
from .refs import CollectionId

_HEX = re.compile(r"^[0-9a-f]{6,64}$")


def split_spec(spec: str, entity: str, project: str) -> tuple[CollectionId, str | None]:
    """Split a spec into its collection and the part after ``:`` (None if absent)."""
    if not isinstance(spec, str) or not spec:
        raise UsageError(f"invalid artifact reference {spec!r}: expected [entity/project/]name[:alias|:vN]")
    path, sep, selector = spec.partition(":")
    parts = path.split("/")
    if len(parts) > 3:
        raise UsageError(f"invalid artifact reference {spec!r}: at most entity/project/name before ':'")
    parts = [entity, project][: 3 - len(parts)] + parts
    for p, what in zip(parts, ("entity", "project", "artifact name")):
        check_name(p, what)
    if sep and not selector:
        raise UsageError(f"invalid artifact reference {spec!r}: nothing after ':'")
    return CollectionId(*parts), (selector if sep else None)


def resolve(repo: pygit2.Repository, spec: str, entity: str, project: str) -> versions.Version:
    """The version ``spec`` names; ``latest`` when no selector is given."""
    coll, selector = split_spec(spec, entity, project)
    return resolve_in(repo, coll, selector or "latest", spec)


def resolve_in(repo: pygit2.Repository, coll: CollectionId, selector: str, spec: str | None = None) -> versions.Version:
    spec = spec or f"{coll}:{selector}"
    if refs.read(repo, coll.collection_ref) is None and versions.version_commit(repo, coll, 0) is None:
        raise NotFoundError(f"artifact {coll} does not exist: check the name (artvcs ls lists them)")
    if selector == "latest":
        newest = versions.latest(repo, coll)
        if newest is None:
            raise NotFoundError(f"{spec!r} names no version: every version of {coll} was deleted")
        return newest
    oid = refs.read(repo, coll.alias_ref(selector))
    if oid is None and VERSION_RE.match(selector):
        oid = versions.version_commit(repo, coll, int(selector[1:]))
        if oid is None:  # a deleted version is still in the chain: readable, state DELETED
            for v in versions.chain(repo, coll):
                if v.number == int(selector[1:]):
                    return v
    if oid is None and _HEX.match(selector):
        matches = [
            v for v in versions.iter_versions(repo, coll)
            if v.facts.get("digest", "").startswith(selector) or str(v.commit).startswith(selector)
        ]
        if len({v.commit for v in matches}) > 1:
            raise UsageError(f"{spec!r} is ambiguous: {len(matches)} versions match digest prefix {selector}")
        if matches:
            return matches[0]
    if oid is None:
        raise NotFoundError(f"{spec!r} names no version: no alias, version or digest {selector!r} in {coll}")
    return versions.read_version(repo, oid)


def resolve_hex(repo: pygit2.Repository, prefix: str) -> versions.Version:
    """A version named by a commit-id or digest prefix alone, across every collection."""
    if not _HEX.match(prefix):
        raise UsageError(f"invalid prefix {prefix!r}: expected 6-64 lowercase hex characters")
    found: dict[str, versions.Version] = {}
    for coll in versions.iter_collections(repo):
        for v in versions.iter_versions(repo, coll):
            if str(v.commit).startswith(prefix) or v.facts.get("digest", "").startswith(prefix):
                found[str(v.commit)] = v
    if not found:
        raise NotFoundError(f"no version has a commit or digest starting with {prefix}")
    if len(found) > 1:
        raise UsageError(f"prefix {prefix} is ambiguous: it matches {len(found)} versions; give more characters")
    return next(iter(found.values()))
