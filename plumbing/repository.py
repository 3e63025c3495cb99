"""Finding, creating and opening an ``.artifacts/`` repository.

``.artifacts/`` is a bare git repository (written through pygit2) with the
content store, a stat cache and artvcs's own configuration beside git's
files. A format record names the on-disk format version; a newer one is
refused rather than misread.
"""
from __future__ import annotations

import os
from functools import cached_property

import pygit2

from .errors import NotARepositoryError
from .formatrecord import FORMAT_FILE, FORMAT_VERSION, INIT_FORMAT_VERSION, check_format  # noqa: F401 (re-exported)
from .statcache import StatCache
from .store import ContentStore

DIRNAME = ".artifacts"
ENV_DIR = "ARTVCS_DIR"


class Repository:
    """An open artvcs repository: git object database + content store."""

    def __init__(self, gitdir: str) -> None:
        self.gitdir = os.path.abspath(gitdir)
        check_format(self.gitdir)
        self.git = pygit2.Repository(self.gitdir)
        self.store = ContentStore(os.path.join(self.gitdir, "content"))

    @property
    def worktree(self) -> str:
        """The project folder that holds ``.artifacts/``."""
        return os.path.dirname(self.gitdir)

    @cached_property
    def statcache(self) -> StatCache:
        return StatCache(os.path.join(self.gitdir, "cache", "stat.db"))

    @property
    def config_path(self) -> str:
        return os.path.join(self.gitdir, "config.yaml")

    def close(self) -> None:
        if "statcache" in self.__dict__:
            self.statcache.close()

    def __repr__(self) -> str:
        return f"Repository({self.gitdir!r})"


def init_repository(folder: str) -> Repository:
    """Create ``folder/.artifacts`` (idempotent: an existing one is opened)."""
    gitdir = os.path.join(os.path.abspath(folder), DIRNAME)
    if os.path.exists(os.path.join(gitdir, FORMAT_FILE)):
        return Repository(gitdir)
    os.makedirs(folder, exist_ok=True)
    git = pygit2.init_repository(gitdir, bare=True)
    cfg = git.config
    cfg["core.logAllRefUpdates"] = "always"  # reflogs for every ref: alias history
    cfg["gc.auto"] = 0  # git gc must never run behind our back
    cfg["user.name"] = "artvcs"  # identity for reflog lines, not an author
    cfg["user.email"] = "artvcs@localhost"
    ContentStore(os.path.join(gitdir, "content")).create_layout()
    os.makedirs(os.path.join(gitdir, "cache"), exist_ok=True)
    # The format record goes last: its presence means the layout is complete.
    tmp = os.path.join(gitdir, FORMAT_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"artvcs-format {INIT_FORMAT_VERSION}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(gitdir, FORMAT_FILE))
    return Repository(gitdir)


def find_gitdir(start: str | None = None) -> str | None:
    """``$ARTVCS_DIR``, else the nearest ``.artifacts/`` at or above ``start``."""
    env = os.environ.get(ENV_DIR)
    if env and start is None:
        return os.path.abspath(env)
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, DIRNAME)
        if os.path.isfile(os.path.join(candidate, FORMAT_FILE)):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def discover(start: str | None = None) -> Repository:
    """Open the repository for ``start`` (or the current folder), or explain how to make one."""
    gitdir = find_gitdir(start)
    if gitdir is None:
        where = os.path.abspath(start or os.getcwd())
        raise NotARepositoryError(
            f"no .artifacts repository in {where} or any parent folder: run 'artvcs init' (or set {ENV_DIR})"
        )
    return Repository(gitdir)
