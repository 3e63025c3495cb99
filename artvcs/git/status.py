"""``artvcs status``: which version each folder holds and how it differs, inside git or not.

Two sources say what a folder should hold: the pin of a tracked path (in a
git work tree's artvcs.lock) and the record a checkout, download or log left
(:mod:`artvcs.logged.folders`). A tracked path is judged by its pin, any
other folder by its record; both give rows of one shape. When every folder
is up to date, :func:`quick` answers from files alone (:mod:`quickstatus`),
and this module imports git and the binding only when the full status runs.
"""
from __future__ import annotations

import os

from artvcs.plumbing.errors import UsageError

TYPE_CHECKING = False  # typing is not imported: it costs an up-to-date status's start-up
if TYPE_CHECKING:
    from typing import Any

    from artvcs.core.context import Context

CLEAN = "clean"


def quick(paths: list[str]) -> list[dict[str, Any]] | None:
    """The rows :func:`status` would give for ``paths``, when they can be told from files alone
    (no paths given, and every folder clean or not pinned); else None."""
    if paths:
        return None
    from artvcs.git import quickstatus

    here = os.getcwd()
    rows = quickstatus.rows(here)
    return None if rows is None else [_shown(r, here) for r in rows]


def _tracked(context: "Context", start: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The git root around ``start`` and its tracked paths' rows; (None, []) outside a git work tree."""
    from artvcs.git import tracking

    try:
        root = tracking.git_root(start)
    except UsageError:
        return None, []
    rows = tracking.status(context, start)
    for r in rows:
        r["version"], r["how"] = r["pin"], "pin"
        r["path"] = os.path.join(root, r["path"])
    return root, rows


def status(context: "Context", paths: list[str] | None = None) -> list[dict[str, Any]]:
    """A row per folder: each of ``paths``, or (without paths) every tracked path of the enclosing
    git work tree and every recorded folder at or below the current folder.

    Row keys: path (relative to the current folder when inside it, else absolute; a folder ends
    in '/'), version (entity/project/name:vN or None),
    how (pin, checkout, download or log), pin (tracked paths only), state (clean, modified,
    missing, unknown, unresolvable, not pinned), changes [{path, problem}], detail (when useful).
    """
    from artvcs.logged import folders

    here = os.getcwd()
    if not paths:
        _, rows = _tracked(context, here)
        seen = {p for r in rows for p in (os.path.abspath(r["path"]), os.path.realpath(r["path"]))}  # a link: one row
        rows += [folders.status(context, p) for p in folders.recorded_under(context, here) if p not in seen]
        return [_shown(r, here) for r in rows]
    out = []
    for p in paths:
        _, tracked = _tracked(context, os.path.dirname(os.path.abspath(p)) or here)
        match = [r for r in tracked if os.path.realpath(r["path"]) == os.path.realpath(p)]
        out.append(_shown(match[0] if match else folders.status(context, p), here))
    return out


def _shown(row: dict[str, Any], here: str) -> dict[str, Any]:
    """The row with its path as git status shows one: relative to ``here`` when inside it."""
    path = os.path.abspath(row["path"])
    rel = os.path.relpath(path, here)
    shown = path if rel == ".." or rel.startswith("../") else rel
    row["path"] = shown + "/" if os.path.isdir(path) or row["path"].endswith("/") else shown
    return row


def differs(rows: list[dict[str, Any]]) -> bool:
    """True when any folder is not exactly its version (what --exit-code reports)."""
    return any(r["state"] != CLEAN for r in rows)


def version_of(context: "Context", path: str) -> tuple[str, str]:
    """``(commit, entity/project/name:vN)`` of the version folder ``path`` should hold: its pin when
    it is a tracked path, else its last recorded checkout, download or log."""
    from artvcs.git import tracking
    from artvcs.logged import folders

    try:
        root = tracking.git_root(os.path.dirname(os.path.abspath(path)))
    except UsageError:
        root = None
    if root is not None:
        rel = os.path.relpath(os.path.realpath(path), root).replace(os.sep, "/")
        pin = {k.rstrip("/"): (k, v) for k, v in tracking.pins(root).items()}.get(rel)
        if pin is not None:
            art = tracking.resolve_pin(context, pin[0], pin[1])
            return art.commit_hash, art.qualified_name
    ws = folders.recorded(context, path)
    if ws is None:
        raise UsageError(f"no version is recorded for folder {path!r} (it was never checked out, downloaded or logged "
                         f"here): name one, 'artvcs diff NAME:vN {path}'")
    return ws.commit, f"{ws.name}:{ws.version}"
