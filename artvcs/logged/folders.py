"""Folders and the versions they hold: what ``artvcs status`` and ``artvcs diff VERSION FOLDER`` show.

A checkout, a download or a log of a whole folder records which version the
folder holds (:mod:`artvcs.plumbing.workspaces`); comparing the folder with
that version's manifest uses the same plumbing check as ``verify`` (the stat
cache vouches for unchanged files, so an up-to-date folder costs a stat per
file). Works on a :class:`Context` and version commits: the W&B objects are
above this layer.
"""
from __future__ import annotations

import os
from typing import Any

from artvcs.core.context import Context
from artvcs.logged.diff import Change
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing import versions as _versions
from artvcs.plumbing import foldersums, workspaces
from artvcs.plumbing.errors import ArtvcsError
from artvcs.plumbing.hashing import hash_file
from artvcs.plumbing.manifest import Entry


def remember(context: Context, commit: str, root: str, how: str) -> None:
    """Record that folder ``root`` now holds version ``commit`` (``how``: checkout, download or log)."""
    version = _versions.read_version(context.repo.git, commit)
    workspaces.record(context.repo.gitdir, workspaces.Workspace(
        path=os.path.realpath(root), name=str(version.collection), version=f"v{version.number}",
        commit=str(version.commit), digest=version.facts.get("digest", ""), how=how, at=_versions.utcnow(),
    ))


def recorded(context: Context, root: str) -> workspaces.Workspace | None:
    """The version folder ``root`` was last made from, as recorded, or None."""
    return workspaces.lookup(context.repo.gitdir, root)


def entries_of(context: Context, commit: str) -> list[Entry]:
    """The manifest entries of version ``commit``."""
    version = _versions.read_version(context.repo.git, commit)
    return list(_manifest.iter_entries(context.repo.git, version.manifest))


def problems(context: Context, entries: list[Entry], root: str, extras: bool = True) -> list[tuple[str, str]]:
    """``(path, problem)`` for each file of ``root`` that differs from ``entries`` (modified,
    missing, extra, not a file, outside root), sorted; without ``extras``, files the version
    does not name are left out (a download leaves other files alone)."""
    from artvcs.plumbing.worklinks import verify_workspace  # the checkout path: not loaded for a log

    found = verify_workspace(entries, root, context.repo.store, context.repo.statcache)
    return [p for p in found if extras or p[1] != "extra"]


def changes(context: Context, entries: list[Entry], root: str) -> list[Change]:
    """From the version (``entries``) to the folder ``root``: what was added, removed or modified,
    with sizes and digests, in the shape of a version-to-version diff."""
    by_path = {e.path: e for e in entries}
    out = []
    for path, problem in problems(context, entries, root):
        old = by_path.get(path)
        if problem == "missing":
            out.append(Change("removed", path, old.size, None, old.digest, None))
            continue
        target = os.path.join(root, path)
        try:  # a link is not the file (problems): what it leads to is not hashed as the folder's
            digest, size = hash_file(target) if os.path.isfile(target) and not os.path.islink(target) else (None, None)
        except OSError:
            digest, size = None, None
        status = "added" if old is None else "modified"
        out.append(Change(status, path, old.size if old else None, size, old.digest if old else None, digest))
    return out


def status(context: Context, root: str) -> dict[str, Any]:
    """One folder's row: its path, the version it holds (or None), how it got it, its state
    (clean, modified, missing, unknown or unresolvable) and the files that differ."""
    row: dict[str, Any] = {"path": os.path.abspath(root), "version": None, "how": None, "state": "unknown", "changes": []}
    try:
        ws = recorded(context, root)
    except workspaces.WorkspaceRecordError as e:
        row["detail"] = str(e)
        return row
    if ws is None:
        row["detail"] = "no checkout, download or log of this folder is recorded in this repository"
        return row
    row["version"], row["how"] = f"{ws.name}:{ws.version}", ws.how
    if not os.path.isdir(root):
        row["state"] = "missing"
        return row
    try:
        entries = entries_of(context, ws.commit)
    except ArtvcsError as e:
        row["state"], row["detail"] = "unresolvable", str(e)
        return row
    found = problems(context, entries, root, extras=ws.how != "download")
    if not found:  # the next status of this folder needs no manifest read (quickstatus)
        version = _versions.read_version(context.repo.git, ws.commit)
        foldersums.keep(context.repo.statcache, ws.commit, version.facts.get("digest", ""), entries)
    row["state"] = "modified" if found else "clean"
    row["changes"] = [{"path": p, "problem": what} for p, what in found]
    return row


def recorded_under(context: Context, folder: str) -> list[str]:
    """The recorded folders at or below ``folder`` that still exist, sorted."""
    top = os.path.realpath(folder)
    return [w.path for w in workspaces.all_records(context.repo.gitdir)
            if (w.path == top or w.path.startswith(top.rstrip(os.sep) + os.sep)) and os.path.isdir(w.path)]


def logged_root(whole_dirs: list[str], local_paths: dict[str, str], count: int) -> str | None:
    """The folder a logged draft was made of, when it was exactly one folder taken whole (one
    ``add_dir`` without a name, and no entry from anywhere else); else None."""
    if len(whole_dirs) != 1 or len(local_paths) != count:
        return None
    root = whole_dirs[0].rstrip(os.sep) + os.sep
    return whole_dirs[0] if all(p.startswith(root) for p in local_paths) else None
