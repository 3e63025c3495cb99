"""The remotes (as ``artvcs remote list --json``), and on request what differs from one of them:
its refs are fetched (as ``artvcs fetch`` does: no local ref or file changes) and each differing ref
is ahead (only or newer here), behind (only or newer there) or diverged."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from artvcs import remotes, sync
from artvcs.errors import ArtvcsError
from artvcs.porcelain.ui.pages.lookup import site


def _compare(repo, name: str) -> dict:
    import pygit2

    rc = remotes.get_remote(repo, name)
    remote = remotes.open_remote(repo, rc.name)
    view, differ = sync.fetch(repo, remote, sync.Selection.of(rc.only))
    git, rows = repo.git, []
    for ref in differ:
        here = git.references.get(ref)
        local = here.target if here is not None else None
        there = pygit2.Oid(hex=view.refs[ref]) if ref in view.refs else None
        if local is None:
            state = "behind"
        elif there is None:
            state = "ahead"
        elif git.descendant_of(local, there):
            state = "ahead"
        elif git.descendant_of(there, local):
            state = "behind"
        else:
            state = "diverged"
        rows.append({"ref": ref, "state": state, "local": str(local) if local else None, "remote": str(there) if there else None})
    counts = {k: sum(1 for r in rows if r["state"] == k) for k in ("ahead", "behind", "diverged")}
    return {"remote": remote.name, "refs": rows, **counts}


async def remotes_page(request: Request) -> Response:
    """JSON twin: ``artvcs remote list --json``, with ``compare`` when ``?compare=NAME`` was asked."""
    repo = site(request).api._context.repo
    found = [{"name": r.name, "url": r.url, **r.options, "only": r.only} for r in remotes.list_remotes(repo)]
    compared = None
    name = request.query_params.get("compare")
    if name:
        try:
            compared = _compare(repo, name)
        except ArtvcsError as e:
            raise HTTPException(404 if "no remote" in str(e) else 502, str(e)) from None
    data = found if compared is None else {"remotes": found, "compare": compared}
    return request.app.state.render.page(request, "remotes.html", data, remotes=found, compared=compared)
