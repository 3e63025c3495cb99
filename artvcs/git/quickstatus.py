"""``artvcs status`` when every folder is up to date, answered from files alone.

The full status (:mod:`status`) opens the repository's git database through
libgit2 and reads each version's whole manifest. Mostly nothing changed,
and that can be told without either: the lock file says which version each
tracked path pins (a workspace record says it for other folders), the
version ref read as a file (:mod:`refpeek`) says the pin still resolves to
that commit, and the version's folder sums (:mod:`foldersums`) with the stat
cache say the folder holds exactly it. Only clean (or not pinned) rows are
answered here; anything else (a change, a pin that moved, a file the cache
does not vouch for, an unusual git layout) returns None and the full status
runs, so that both always give the same rows.
"""
from __future__ import annotations

import os
import sqlite3

from artvcs.git import lockfile
from artvcs.plumbing import foldersums, workspaces
from artvcs.plumbing.errors import ArtvcsError
from artvcs.plumbing.formatrecord import check_format
from artvcs.plumbing.location import find_gitdir
from artvcs.plumbing.names import encode_component
from artvcs.plumbing.refpeek import CannotTell, RefPeek
from artvcs.plumbing.statcache import StatCache

TYPE_CHECKING = False  # typing is not imported: it costs an up-to-date status's start-up
if TYPE_CHECKING:
    from typing import Any

_PIN_FIELDS = ("name", "version", "digest", "commit")


class _CannotSay(Exception):
    """A folder is not shown clean from files alone: the full status must run."""


def rows(here: str) -> list[dict[str, Any]] | None:
    """The rows of ``artvcs status`` (no paths) run in ``here``, paths absolute, when every folder
    is clean or not pinned; None when the full status has to say."""
    gitdir = find_gitdir()
    if gitdir is None:
        return None
    check = None
    try:
        check_format(gitdir)
        check = _Check(gitdir)
        out = _tracked(here, check)
        seen = {os.path.realpath(r["path"]) for r in out}
        top = os.path.realpath(here)
        for ws in workspaces.all_records(gitdir):
            if ws.path in seen or not (ws.path == top or ws.path.startswith(top.rstrip(os.sep) + os.sep)) \
                    or not os.path.isdir(ws.path):
                continue
            if workspaces.lookup(gitdir, ws.path) != ws:  # a record under another folder's name
                return None
            check(ws.path, ws.name, ws.version, ws.commit, ws.digest)
            out.append({"path": ws.path, "version": f"{ws.name}:{ws.version}", "how": ws.how, "state": "clean",
                        "changes": []})
        return out
    except (_CannotSay, CannotTell, ArtvcsError, OSError, sqlite3.Error):  # the full status will say what it is
        return None
    finally:
        if check is not None:
            check.close()


def _tracked(here: str, check: "_Check") -> list[dict[str, Any]]:
    """The rows of the tracked paths of the git work tree around ``here`` ([] outside one)."""
    root = _work_tree(here)
    if root is None:
        return []
    decl = lockfile.declarations(root, check.cache)  # parsed once per content: no YAML parser here
    pins = lockfile.pins(root, check.cache)
    out = []
    for rel in sorted(set(decl) | set(pins)):
        pin = pins.get(rel)
        row: dict[str, Any] = {"path": os.path.join(root, rel),
                               "pin": f"{pin.get('name')}:{pin.get('version')}" if isinstance(pin, dict) else None,
                               "state": "not pinned", "changes": []}
        if pin is not None:
            if not rel.endswith("/") or not isinstance(pin, dict) or not all(isinstance(pin.get(k), str) for k in _PIN_FIELDS):
                raise _CannotSay(rel)
            check(lockfile.place(root, rel), pin["name"], pin["version"], pin["commit"], pin["digest"])
            row["state"] = "clean"
        row["version"], row["how"] = row["pin"], "pin"
        out.append(row)
    return out


def _work_tree(start: str) -> str | None:
    """The root of the git work tree around ``start`` as libgit2's discovery finds it (a ``.git``
    folder, not crossing file systems), None when there is none; _CannotSay for the layouts this
    does not follow (a ``.git`` file or link, a bare repository, core.worktree)."""
    here = os.path.realpath(start)
    dev = os.stat(here).st_dev
    while True:
        dotgit = os.path.join(here, ".git")
        if os.path.isdir(dotgit) and not os.path.islink(dotgit):
            with open(os.path.join(dotgit, "config"), "rb") as f:
                lines = [b"".join(line.split()).lower() for line in f.read().splitlines()]
            if any(line.startswith(b"worktree") or line == b"bare=true" for line in lines):
                raise _CannotSay(dotgit)
            return here
        if os.path.lexists(dotgit) or os.path.basename(here) == ".git" \
                or os.path.isfile(os.path.join(here, "HEAD")) and os.path.isdir(os.path.join(here, "objects")):
            raise _CannotSay(here)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
        if os.stat(here).st_dev != dev:
            raise _CannotSay(here)


class _Check:
    """Whether one folder holds exactly one version, told from files; raises _CannotSay if not."""

    def __init__(self, gitdir: str) -> None:
        self.refs = RefPeek(gitdir)
        self.cache = StatCache(os.path.join(gitdir, "cache", "stat.db"))

    def __call__(self, folder: str, name: str, version: str, commit: str, digest: str) -> None:
        parts = name.split("/")
        if len(parts) != 3 or not version[1:].isdigit() or version != f"v{int(version[1:])}":
            raise _CannotSay(name)
        coll = "/".join(encode_component(p) for p in parts)
        # as revparse.resolve_in: the collection exists, no alias is named vN, and vN is the commit
        if self.refs.peek(f"refs/collections/{coll}") is None and self.refs.peek(f"refs/versions/{coll}/v0") is None:
            raise _CannotSay(name)
        if self.refs.peek(f"refs/aliases/{coll}/{encode_component(version)}") is not None \
                or self.refs.peek(f"refs/versions/{coll}/{version}") != commit:
            raise _CannotSay(name)
        if foldersums.version_held(self.cache, commit, digest, os.path.abspath(folder)) is None:
            raise _CannotSay(folder)

    def close(self) -> None:
        self.cache.close()
