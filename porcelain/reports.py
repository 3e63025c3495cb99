"""The data each porcelain command prints with ``--json``, built once for the CLI and the web view (artvcs ui).

Each function returns plain JSON-ready values; the CLI prints them, the web view serves them as the
JSON twin of a page and renders its HTML from them, so both always say the same.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from artvcs.logged import lineage_graph
from artvcs.sync import remotes
from artvcs.artifact import Artifact
from artvcs.core.context import Context
from artvcs.logged.diff import attribute_changes
from artvcs.logged.diff import diff as diff_versions
from artvcs.logged.history import history as version_history
from artvcs.logged.listing import collections
from artvcs.porcelain.app import summary

if TYPE_CHECKING:
    from artvcs.plumbing.repository import Repository


def ls_report(ctx: Context, type_: str | None = None, every_project: bool = False) -> list[dict[str, Any]]:
    """``artvcs ls --json``: each collection and portfolio of the context's project (``every_project``:
    of every project the repository holds, the default first)."""
    return collections(ctx, type_, every_project=every_project)


def versions_report(arts: list[Artifact]) -> list[dict[str, Any]]:
    """``artvcs versions --json``: the summary of each version given (the CLI gives them all, oldest first)."""
    return [summary(x) for x in arts]


def entry_json(e) -> dict[str, Any]:
    """One entry as ``show --files --json`` has always printed it (path, digest, size; ref and extra when set)."""
    d = {"path": e.path, "digest": e.digest, "size": e.size}
    if e.ref is not None:
        d["ref"] = e.ref
    if e.extra:
        d["extra"] = e.extra
    return d


def show_report(a: Artifact, list_files: bool = False) -> dict[str, Any]:
    """``artvcs show --json``: the version's summary, the run that logged it, and (``list_files``) every entry."""
    data = summary(a)
    run = a.logged_by()
    data["logged_by"] = run.path if run else None
    data["logged_by_state"] = run.state if run else None
    if list_files:
        data["files"] = [entry_json(e) for _, e in sorted(a.manifest.entries.items())]
    return data


def diff_report(old: Artifact, new: Artifact, stat_only: bool = False) -> dict[str, Any]:
    """``artvcs diff --json`` of two versions: entries added, removed and modified, attribute changes, counts."""
    return diff_json(old.qualified_name, new.qualified_name, diff_versions(old, new), attribute_changes(old, new), stat_only)


def diff_json(label_old: str, label_new: str, changes: list, attributes: list[dict[str, Any]],
              stat_only: bool = False) -> dict[str, Any]:
    """``artvcs diff --json`` of any two sides (versions or folders): labels, changes, attribute changes, counts."""
    counts = {k: sum(1 for c in changes if c.status == k) for k in ("added", "removed", "modified")}
    stat = {**counts, "bytes": sum((c.new_size or 0) - (c.old_size or 0) for c in changes)}
    if stat_only:
        return {"stat": stat}
    return {"old": label_old, "new": label_new, "attributes": attributes,
            "changes": [dataclasses.asdict(c) for c in changes], "stat": stat}


def lineage_report(a: Artifact, depth: int = 10) -> dict[str, Any]:
    """``artvcs lineage --json``: nodes (runs and artifacts) and edges around ``a``."""
    return lineage_graph.build(a, depth).to_json()


def history_report(a: Artifact) -> list[dict[str, Any]]:
    """``artvcs history --json``: when ``a`` was logged, each edit, each alias move."""
    return version_history(a)


def remote_list_report(repo: "Repository") -> list[dict[str, Any]]:
    """``artvcs remote list --json``: each remote's name, URL, settings and ``only`` selection."""
    return [remote_json(r) for r in remotes.list_remotes(repo)]


def remote_json(r) -> dict[str, Any]:
    """One remote as ``remote list --json`` and ``remote add --json`` print it."""
    return {"name": r.name, "url": r.url, **r.options, "only": r.only}
