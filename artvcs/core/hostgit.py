"""What a run records about the git repository the code runs in."""
from __future__ import annotations

import os
from typing import Any


def describe(start: str | None = None) -> dict[str, Any] | None:
    """Commit, branch, work-tree root and dirty flag of the enclosing git repository, or None."""
    try:
        import pygit2

        found = pygit2.discover_repository(start or os.getcwd())
        if not found:
            return None
        repo = pygit2.Repository(found)
        if repo.is_bare:
            return None
        commit = None if repo.head_is_unborn else str(repo.head.target)
        branch = None if repo.head_is_detached or repo.head_is_unborn else repo.head.shorthand
        dirty = any(
            flags not in (pygit2.GIT_STATUS_WT_NEW, pygit2.GIT_STATUS_IGNORED, pygit2.GIT_STATUS_CURRENT)
            for flags in repo.status(untracked_files="no").values()
        )
        return {"commit": commit, "branch": branch, "dirty": dirty, "root": repo.workdir.rstrip(os.sep)}
    except Exception:  # a broken or foreign repository must not stop a training run
        return None
