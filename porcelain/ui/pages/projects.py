"""The index (every project the repository holds, each with its collections) and one project's page."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from artvcs.logged import browse
from artvcs.porcelain.reports import ls_report
from artvcs.porcelain.ui.pages.lookup import site


async def index(request: Request) -> Response:
    """JSON twin: ``[{"entity", "project", "collections": <artvcs ls --json of that project>}]``."""
    s = site(request)
    default = (s.api._context.entity, s.api._context.project)
    found = browse.projects(s.api._context.repo)
    # The repository's default project first, then the others by name.
    found.sort(key=lambda ep: (ep != default, ep))
    data = [{"entity": e, "project": p, "collections": ls_report(s.context(e, p))} for e, p in found]
    return request.app.state.render.page(request, "index.html", data, projects=data, default=default)


async def project(request: Request) -> Response:
    """JSON twin: exactly ``artvcs ls --json`` run in that project."""
    entity, name = request.path_params["entity"], request.path_params["project"]
    s = site(request)
    type_ = request.query_params.get("type") or None
    rows = ls_report(s.context(entity, name), type_)
    return request.app.state.render.page(request, "project.html", rows, entity=entity, project=name, rows=rows, type_=type_)
