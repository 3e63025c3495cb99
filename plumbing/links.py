"""Portfolio links: a version of one collection made a member of another.

A link is a version commit in the portfolio's own chain (``kind: "link"``),
numbered like any version, sharing the source's manifest tree, with the
source version commit as its second parent. ``model-registry`` portfolios
accept only types that contain ``model``.
"""
from __future__ import annotations

from collections.abc import Iterator

import pygit2

from . import versions
from .errors import UsageError
from .refs import CollectionId

MODEL_REGISTRY = "model-registry"


def check_link_allowed(source: versions.Version, portfolio: CollectionId) -> None:
    """Refuse links the registry rules forbid."""
    if source.kind == "link":
        raise UsageError(f"{source.collection}:v{source.number} is itself a link: link its source version instead")
    if portfolio.project == MODEL_REGISTRY and "model" not in source.facts.get("type", ""):
        raise UsageError(
            f"cannot link type {source.facts.get('type')!r} to {portfolio}: "
            "the model registry accepts only artifact types that contain 'model'"
        )


def link_version(
    repo: pygit2.Repository, source: versions.Version, portfolio: CollectionId, created_at: str, sync_path: str | None = None
) -> versions.Version:
    """Add ``source`` to ``portfolio`` as its next version; return the link version."""
    check_link_allowed(source, portfolio)
    f = source.facts
    facts = {
        "kind": "link",
        "type": f["type"],
        "created_at": created_at,
        "digest": f["digest"],
        "size": f["size"],
        "file_count": f["file_count"],
        "source": {
            "entity": source.collection.entity,
            "project": source.collection.project,
            "name": source.collection.name,
            "version": source.number,
            "commit": str(source.commit),
        },
    }
    return versions.commit_version(
        repo, portfolio, source.manifest, facts, extra_parents=(source.commit,), sync_path=sync_path
    )


def links_of(repo: pygit2.Repository, source: versions.Version) -> Iterator[versions.Version]:
    """Every live link version whose source is ``source``."""
    for coll in versions.iter_collections(repo):
        for v in versions.iter_versions(repo, coll):
            if v.kind == "link" and v.facts.get("source", {}).get("commit") == str(source.commit):
                yield v


def source_of(repo: pygit2.Repository, link: versions.Version) -> versions.Version:
    """The version a link points at."""
    return versions.read_version(repo, link.facts["source"]["commit"])
