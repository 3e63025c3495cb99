"""The ASGI application of ``artvcs ui``: the routes of every page (each also under /api/ for its
JSON twin), the static files shipped in the package, errors as pages, and the guard around it all.

Handlers are ``async`` and call the binding directly: requests are served one at a time on the
event loop, so no pygit2 object is shared between threads, and each page reads what it needs fresh.
"""
from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import artvcs
from artvcs.errors import ArtvcsError, CorruptObjectError, NotFoundError
from artvcs.porcelain.ui.guard import CsrfToken, GuardMiddleware
from artvcs.porcelain.ui.pages import diff, edit, files, lineage, projects, remotes, version
from artvcs.porcelain.ui.pages.lookup import Site
from artvcs.porcelain.ui.render import HERE, Renderer, make_env, to_json, wants_json

A = "/a/{entity}/{project}/{ref}"


def _routes() -> list:
    pages = [
        Route("/", projects.index),
        Route("/p/{entity}/{project}", projects.project),
        Route(A, version.artifact_page),
        Route(A + "/tree", version.tree),
        Route(A + "/history", version.history),
        Route(A + "/lineage", lineage.lineage),
        Route(A + "/file/{path:path}", files.file_page),
        Route("/diff", diff.diff),
        Route("/remotes", remotes.remotes_page),
        Route("/run/{entity}/{project}/{run_id}", lineage.run),
    ]
    api = [Route("/api" + (r.path if r.path != "/" else "/projects"), r.endpoint) for r in pages]
    return pages + api + [
        Route(A + "/raw/{path:path}", files.raw),
        Route(A + "/frame/{path:path}", files.html_frame),
        Route(A + "/edit", edit.edit, methods=["POST"]),
        Route("/c/{commit}", lineage.by_commit),
        Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"),
    ]


def create_app(api: artvcs.Api, allowed_hosts: set[str], *, edit: bool = False) -> GuardMiddleware:
    """The web view of ``api``'s repository, answering only requests addressed to ``allowed_hosts``."""
    csrf = CsrfToken()
    renderer = Renderer(make_env(), csrf.value, edit)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, renderer, exc.status_code, exc.detail)

    async def artvcs_error(request: Request, exc: ArtvcsError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 500 if isinstance(exc, CorruptObjectError) else 400
        return _error(request, renderer, status, str(exc))

    app = Starlette(routes=_routes(), exception_handlers={HTTPException: http_error, ArtvcsError: artvcs_error})
    app.state.site = Site(api)
    app.state.render = renderer
    app.state.csrf = csrf
    return GuardMiddleware(app, allowed_hosts)


def _error(request: Request, renderer: Renderer, status: int, message: str) -> Response:
    if wants_json(request):
        return Response(to_json({"error": message, "status": status}) + "\n", status, media_type="application/json")
    html = renderer.env.get_template("error.html").render(request=request, csrf="", edit=False, status=status, message=message)
    return Response(html, status, media_type="text/html")
