"""The lineage graph around a version, drawn as SVG; artifact nodes open their version, run nodes their run."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from artvcs.errors import NotFoundError, UsageError
from artvcs.porcelain.reports import lineage_report
from artvcs.porcelain.ui.layout import layout
from artvcs.porcelain.ui.pages.lookup import int_param, site


async def lineage(request: Request) -> Response:
    """JSON twin: exactly ``artvcs lineage --json --depth N``."""
    entity, project, ref = (request.path_params[k] for k in ("entity", "project", "ref"))
    a = site(request).artifact(entity, project, ref)
    depth = int_param(request, "depth", 3, 1, 50)
    graph = lineage_report(a, depth)
    return request.app.state.render.page(request, "lineage.html", graph, entity=entity, project=project, ref=ref,
                                         name=a.name, depth=depth, drawing=layout(graph))


async def by_commit(request: Request) -> Response:
    """``/c/<commit>``: the version page of a version commit (the lineage graph's artifact nodes link here)."""
    commit = request.path_params["commit"]
    try:
        a = site(request).api.artifact(commit)
    except (NotFoundError, UsageError) as e:
        raise HTTPException(404, str(e)) from None
    coll = a.source_qualified_name.rsplit(":", 1)[0]
    return RedirectResponse(f"/a/{coll}:{a.source_version}", 303)


async def run(request: Request) -> Response:
    """A run: what it used and logged, its config."""
    entity, project, run_id = (request.path_params[k] for k in ("entity", "project", "run_id"))
    try:
        r = site(request).api.run(f"{entity}/{project}/{run_id}")
    except (NotFoundError, UsageError) as e:
        raise HTTPException(404, str(e)) from None
    data = {"path": r.path, "id": r.id, "name": r.name, "job_type": r.job_type, "state": r.state, "started_at": r.started_at,
            "finished_at": r.finished_at, "config": r.config, "git": r.git,
            "used": [x.qualified_name for x in r.used_artifacts()], "logged": [x.qualified_name for x in r.logged_artifacts()]}
    return request.app.state.render.page(request, "run.html", data, run=data)
