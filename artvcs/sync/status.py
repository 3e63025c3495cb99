"""What differs between this repository and a remote: each ref ahead (only here, or newer here),
behind (only there, or newer there) or diverged. The remote's refs and packs are fetched first, as
``artvcs fetch`` does: no local ref and no file of the work tree changes."""
from __future__ import annotations

from typing import Any

import pygit2

from artvcs.sync import remotes, sync
from artvcs.plumbing import refs
from artvcs.plumbing.repository import Repository


def _state(git: pygit2.Repository, local: str | None, there: str | None) -> str:
    if local is None:
        return "behind"
    if there is None:
        return "ahead"
    a, b = pygit2.Oid(hex=local), pygit2.Oid(hex=there)
    if git.descendant_of(a, b):
        return "ahead"
    if git.descendant_of(b, a):
        return "behind"
    return "diverged"


def compare(repo: Repository, name: str | None = None) -> dict[str, Any]:
    """``{remote, refs: [{ref, state, local, remote}], ahead, behind, diverged}`` for remote ``name`` (default: the default remote)."""
    rc = remotes.get_remote(repo, name)
    remote = remotes.open_remote(repo, rc.name)
    selection = sync.Selection.of(rc.only)
    view, _ = sync.fetch(repo, remote, selection)
    git = repo.git
    local = {n: str(o) for n, o in refs.iter_refs(git, "refs/") if n.split("/")[1] in sync.OURS and selection.ref(n)}
    rows = [
        {"ref": ref, "state": _state(git, local.get(ref), view.refs.get(ref)), "local": local.get(ref), "remote": view.refs.get(ref)}
        for ref in sorted(set(local) | set(view.refs))
        if local.get(ref) != view.refs.get(ref)
    ]
    counts = {k: sum(1 for r in rows if r["state"] == k) for k in ("ahead", "behind", "diverged")}
    return {"remote": remote.name, "refs": rows, **counts}
