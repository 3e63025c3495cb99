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
from artvcs.logged.diff import diff as diff_versions
from artvcs.logged.history import history as version_history
from artvcs.logged.listing import collections
from artvcs.porcelain.app import summary

if TYPE_CHECKING:
    from artvcs.plumbing.repository import Repository


def ls_report(ctx: Context, type_: str | None = None) -> list[dict[str, Any]]:
    """``artvcs ls --json``: each collection and portfolio of the context's project."""
    return collections(ctx, type_)


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
    if list_files:
        data["files"] = [entry_json(e) for _, e in sorted(a.manifest.entries.items())]
    return data


def diff_report(old: Artifact, new: Artifact, stat_only: bool = False) -> dict[str, Any]:
    """``artvcs diff --json``: entries added, removed and modified from ``old`` to ``new``, and their counts."""
    changes = diff_versions(old, new)
    counts = {k: sum(1 for c in changes if c.status == k) for k in ("added", "removed", "modified")}
    delta = sum((c.new_size or 0) - (c.old_size or 0) for c in changes)
    stat = {**counts, "bytes": delta}
    return {"stat": stat} if stat_only else {"changes": [dataclasses.asdict(c) for c in changes], "stat": stat}


def lineage_report(a: Artifact, depth: int = 10) -> dict[str, Any]:
    """``artvcs lineage --json``: nodes (runs and artifacts) and edges around ``a``."""
    return lineage_graph.build(a, depth).to_json()


def history_report(a: Artifact) -> list[dict[str, Any]]:
    """``artvcs history --json``: when ``a`` was logged, each edit, each alias move."""
    return version_history(a)


def remote_list_report(repo: "Repository") -> list[dict[str, Any]]:
    """``artvcs remote list --json``: each remote's name, URL, settings and ``only`` selection."""
    return [{"name": r.name, "url": r.url, **r.options, "only": r.only} for r in remotes.list_remotes(repo)]
