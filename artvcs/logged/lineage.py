"""Which runs logged and used a version (``logged_by``, ``used_by``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from artvcs.core.context import Context, context_for
from artvcs.plumbing import runs as _runs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import NotFoundError

if TYPE_CHECKING:
    from artvcs.session import Run


def logged_by(context: Context, version: _versions.Version) -> "Run | None":
    from artvcs.session import Run

    ref = version.facts.get("run")
    if not ref:
        return None
    try:
        rec = _runs.read_run(context.repo.git, ref["entity"], ref["project"], ref["id"])
    except NotFoundError:
        return None
    return Run(context_for(context.repo, ref["entity"], ref["project"]), rec)


def used_by(context: Context, version: _versions.Version) -> list["Run"]:
    from artvcs.session import Run

    commit = str(version.commit)
    out = []
    for rec in _runs.iter_runs(context.repo.git):
        if any(u.get("commit") == commit for u in rec.get("used", [])):
            out.append(Run(context_for(context.repo, rec["entity"], rec["project"]), rec))
    out.sort(key=lambda r: r.started_at)
    return out
