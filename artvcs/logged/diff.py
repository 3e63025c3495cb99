"""Differences between two logged versions, entry by entry."""
from __future__ import annotations

from typing import TYPE_CHECKING

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
