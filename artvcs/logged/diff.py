"""Differences between two logged versions, entry by entry."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dataclasses import dataclass

from artvcs.plumbing import manifest as _manifest

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


@dataclass(frozen=True)
class Change:
    """One entry that differs: ``status`` is added, removed or modified."""

    status: str
    path: str
    old_size: int | None
    new_size: int | None
    old_digest: str | None
    new_digest: str | None


def diff(old: Artifact, new: Artifact) -> list[Change]:
    """What changed from ``old`` to ``new``; subtrees shared by both are skipped unread."""
    git = new._context.repo.git
    out = []
    for path, a, b in _manifest.diff_manifests(git, old._source.manifest, new._source.manifest):
        status = "added" if a is None else "removed" if b is None else "modified"
        out.append(Change(status, path, a.size if a else None, b.size if b else None, a.digest if a else None, b.digest if b else None))
    return out


def reverse(c: Change) -> Change:
    """The same change read the other way round (from NEW to OLD)."""
    status = {"added": "removed", "removed": "added"}.get(c.status, c.status)
    return Change(status, c.path, c.new_size, c.old_size, c.new_digest, c.old_digest)


def attribute_changes(old: Artifact, new: Artifact) -> list[dict[str, Any]]:
    """``{field, old, new}`` for each attribute that differs: type, description, each metadata key
    (``metadata.KEY``, null where absent) and the alias set."""
    out: list[dict[str, Any]] = []
    for field in ("type", "description"):
        a, b = getattr(old, field), getattr(new, field)
        if (a or None) != (b or None):
            out.append({"field": field, "old": a or None, "new": b or None})
    for key in sorted(set(old.metadata) | set(new.metadata)):
        a, b = old.metadata.get(key), new.metadata.get(key)
        if a != b or (key in old.metadata) != (key in new.metadata):
            out.append({"field": f"metadata.{key}", "old": a, "new": b})
    if sorted(old.aliases) != sorted(new.aliases):
        out.append({"field": "aliases", "old": sorted(old.aliases), "new": sorted(new.aliases)})
    return out
