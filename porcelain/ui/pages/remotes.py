"""The remotes (as ``artvcs remote list --json``), and on request what differs from one of them
(artvcs.sync.status: refs ahead, behind or diverged, after a fetch that changes no local ref)."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from artvcs.sync import status as remote_status
from artvcs.errors import ArtvcsError
from artvcs.porcelain.reports import remote_list_report
from artvcs.porcelain.ui.pages.lookup import site


async def remotes_page(request: Request) -> Response:
    """JSON twin: ``artvcs remote list --json``, with ``compare`` when ``?compare=NAME`` was asked."""
    repo = site(request).api._context.repo
    found = remote_list_report(repo)
    compared = None
    name = request.query_params.get("compare")
    if name:
        try:
            compared = remote_status.compare(repo, name)
        except ArtvcsError as e:
            raise HTTPException(404 if "no remote" in str(e) else 502, str(e)) from None
    data = found if compared is None else {"remotes": found, "compare": compared}
    return request.app.state.render.page(request, "remotes.html", data, remotes=found, compared=compared)
