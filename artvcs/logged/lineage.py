"""Which runs logged and used a version (``logged_by``, ``used_by``): their records, each with
the context it belongs to; the W&B face wraps them in ``Run`` objects."""
from __future__ import annotations

from typing import Any

from artvcs.core.context import Context, context_for
from artvcs.plumbing import runs as _runs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import NotFoundError

RunRecord = tuple[Context, dict[str, Any]]


def logged_by(context: Context, version: _versions.Version) -> RunRecord | None:
    ref = version.facts.get("run")
    if not ref:
        return None
    try:
        rec = _runs.read_run(context.repo.git, ref["entity"], ref["project"], ref["id"])
    except NotFoundError:
        return None
    return context_for(context.repo, ref["entity"], ref["project"]), rec


def used_by(context: Context, version: _versions.Version) -> list[RunRecord]:
    commit = str(version.commit)
    out = []
    for rec in _runs.iter_runs(context.repo.git):
        if any(u.get("commit") == commit for u in rec.get("used", [])):
            out.append((context_for(context.repo, rec["entity"], rec["project"]), rec))
    out.sort(key=lambda r: r[1]["started_at"])
    return out
