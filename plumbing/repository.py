"""Finding, creating and opening an ``.artifacts/`` repository.

``.artifacts/`` is a bare git repository (written through pygit2) with the
content store, a stat cache and artvcs's own configuration beside git's
files. A format record names the on-disk format version; a newer one is
refused rather than misread.
"""
from __future__ import annotations

import os
import re
from functools import cached_property

import pygit2

from . import config, identity, namespace
from .errors import NotARepositoryError
from .location import DIRNAME, ENV_DIR, find_gitdir  # noqa: F401 (re-exported)
from .formatrecord import FORMAT_FILE, FORMAT_VERSION, INIT_FORMAT_VERSION, check_format, parse_format_record  # noqa: F401 (re-exported)
from .names import check_name
from .statcache import StatCache
from .store import ContentStore


class Repository:
    """An open artvcs repository: git object database + content store."""

    def __init__(self, gitdir: str) -> None:
        self.gitdir = os.path.abspath(gitdir)
        check_format(self.gitdir)
        self.git = pygit2.Repository(self.gitdir)
        who = identity.current()
        self.git.set_ident(who.name, who.email)  # reflog lines name the person who moved a ref
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

    def recorded_namespace(self) -> tuple[namespace.Namespace, bool]:
        """The default entity and project recorded in the repository, and whether they were pinned just now.

        A repository made before the record existed is pinned from the old
        derivation on this first call (the caller says so once); a read-only
        one gets the derivation without a record.
        """
        found = namespace.read(self.git)
        if found is not None:
            return found, False
        derived = namespace.derive(self.worktree, config.load(self.config_path))
        try:
            return namespace.record(self.git, derived, "pin"), True
        except OSError:
            return derived, False

    def default_namespace(self) -> namespace.Namespace:
        """The namespace names without one resolve in: ``$ARTVCS_ENTITY``/``$ARTVCS_PROJECT`` (one command), else the recorded one."""
        recorded, _ = self.recorded_namespace()
        return namespace.with_overrides(recorded)

    def close(self) -> None:
        if "statcache" in self.__dict__:
            self.statcache.close()

    def __repr__(self) -> str:
        return f"Repository({self.gitdir!r})"


def init_repository(folder: str, entity: str | None = None, project: str | None = None, reason: str = "init") -> Repository:
    """Create ``folder/.artifacts`` with its default namespace recorded (idempotent: an existing one is opened).

    The namespace is ``entity``/``project`` where given, the rest derived
    once from who is typing and the folder's name. On an existing repository a
    given ``entity`` or ``project`` changes the recorded default (with history).
    """
    gitdir = os.path.join(os.path.abspath(folder), DIRNAME)
    if os.path.exists(os.path.join(gitdir, FORMAT_FILE)):
        repo = Repository(gitdir)
        if entity or project:
            current, _ = repo.recorded_namespace()
            namespace.record(repo.git, namespace.Namespace(entity or current.entity, project or current.project), "set")
        return repo
    wanted = namespace.derive(folder)
    wanted = namespace.Namespace(check_name(entity, "entity") if entity else wanted.entity,
                                 check_name(project, "project") if project else wanted.project)
    os.makedirs(folder, exist_ok=True)
    git = pygit2.init_repository(gitdir, bare=True)
    cfg = git.config
    cfg["core.logAllRefUpdates"] = "always"  # reflogs for every ref: alias history
    cfg["gc.auto"] = 0  # git gc must never run behind our back
    who = identity.current()
    git.set_ident(who.name, who.email)
    namespace.record(git, wanted, reason)
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


def discover(start: str | None = None) -> Repository:
    """Open the repository for ``start`` (or the current folder), or explain how to make one."""
    gitdir = find_gitdir(start)
    if gitdir is None:
        where = os.path.abspath(start or os.getcwd())
        raise NotARepositoryError(
            f"no .artifacts repository in {where} or any parent folder: run 'artvcs init' (or set {ENV_DIR})"
        )
    return Repository(gitdir)
