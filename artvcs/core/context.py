"""Which repository, entity and project the binding works in.

A process keeps one open :class:`Repository` per ``.artifacts`` folder. The
repository is the current run's, else the one named by ``dir`` or
``$ARTVCS_DIR``, else the nearest one above the current folder; if there is
none, one is created at the enclosing git work tree's root (or the current
folder) and a one-line notice goes to stderr.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artvcs.errors import NotARepositoryError
from artvcs.plumbing import config
from artvcs.plumbing.names import check_name
from artvcs.plumbing.repository import Repository, find_gitdir, init_repository

if TYPE_CHECKING:
    from artvcs.runs import Run

_open: dict[str, Repository] = {}
_lock = threading.Lock()
_current: "Run | None" = None  # set by artvcs.runs: kept here so that everything below the face can ask


@dataclass(frozen=True)
class Context:
    """A repository and the default namespace (entity/project) to use in it."""

    repo: Repository
    entity: str
    project: str


def current_run() -> "Run | None":
    """The run started by the last ``init()`` and not yet finished."""
    return _current


def set_current_run(run: "Run | None") -> None:
    global _current
    _current = run


def open_repo(gitdir: str) -> Repository:
    gitdir = os.path.abspath(gitdir)
    with _lock:
        repo = _open.get(gitdir)
        if repo is None:
            repo = _open[gitdir] = Repository(gitdir)
        return repo


def _enclosing_git_root(start: str) -> str | None:
    try:
        import pygit2

        found = pygit2.discover_repository(start)
        if not found:
            return None
        git = pygit2.Repository(found)
        return git.workdir.rstrip(os.sep) if git.workdir else None
    except Exception:
        return None


def find_or_create(dir: str | None = None, create: bool = True) -> Repository:
    """The repository for ``dir`` (a project folder or its ``.artifacts``), found or made."""
    if dir is None and (run := current_run()) is not None:
        return run.context.repo
    if dir is not None:
        dir = os.path.abspath(dir)
        if os.path.basename(dir) == ".artifacts" and os.path.isdir(dir):
            return open_repo(dir)
        gitdir = find_gitdir(dir)
    else:
        gitdir = find_gitdir()
    if gitdir is not None:
        return open_repo(gitdir)
    if not create:
        raise NotARepositoryError(
            f"no .artifacts repository in {dir or os.getcwd()} or any parent folder: run 'artvcs init'"
        )
    # An explicit folder is where the user wants it; otherwise the git root.
    where = dir if dir is not None else (_enclosing_git_root(os.getcwd()) or os.getcwd())
    repo = init_repository(where)
    print(f"artvcs: created a new repository in {repo.gitdir}", file=sys.stderr)
    with _lock:
        _open[repo.gitdir] = repo
    return repo


def context_for(repo: Repository, entity: str | None = None, project: str | None = None) -> Context:
    """Fill in the default entity and project from settings."""
    e = check_name(entity, "entity") if entity else config.default_entity(repo.config_path)
    p = check_name(project, "project") if project else config.default_project(repo.config_path, repo.worktree)
    return Context(repo, e, p)
