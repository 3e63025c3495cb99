"""One version: its facts, metadata, description, aliases and their history, and its file tree.

The tree is read a folder at a time (artvcs.logged.browse): a page lists one folder's subfolders and one page
of one of its listings, and a folder opened in the page fetches its own listing, so a 1,000,000-entry
manifest opens as fast as a small one.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from artvcs.logged import browse
from artvcs.errors import UsageError
from artvcs.porcelain.reports import entry_json, history_report, show_report
from artvcs.porcelain.ui.pages.lookup import page_of, site, wants_fragment
from artvcs.porcelain.ui.pages.versions import versions

TREE_PAGE = 200


async def artifact_page(request: Request) -> Response:
    """``/a/E/P/name`` lists the collection's versions; ``/a/E/P/name:vN`` (or ``:alias``) shows one."""
    if ":" not in request.path_params["ref"]:
        request.path_params["name"] = request.path_params["ref"]
        return await versions(request)
    return await version(request)


def _where(request: Request) -> tuple[str, str, str]:
    return request.path_params["entity"], request.path_params["project"], request.path_params["ref"]


def folder_view(request: Request, a) -> dict:
    """Folder ``?path=`` of ``a``: subfolders, and one page of one listing (``?listing=``, ``?page=``)."""
    path = request.query_params.get("path", "")
    try:
        found = browse.folder(a, path, request.query_params.get("listing"))
    except UsageError as e:
        raise HTTPException(404, str(e)) from None
    if found is None:
        raise HTTPException(404, f"{a.name} has no folder {path!r}")
    page = page_of(request, len(found.files), TREE_PAGE)
    files = found.files[page.start : page.start + page.size]
    return {
        "path": found.path,
        "folders": found.subfolders,
        "listings": found.listings,
        "listing": found.listing,
        "page": page.number,
        "pages": page.count,
        "files": [entry_json(e) for e in files],
    }


async def version(request: Request) -> Response:
    """JSON twin: exactly ``artvcs show --json`` of the version."""
    entity, project, ref = _where(request)
    s = site(request)
    a = s.artifact(entity, project, ref)
    data = show_report(a)
    events = history_report(a)
    tree = folder_view(request, a)
    number = int(a.version[1:])
    return request.app.state.render.page(
        request, "version.html", data, entity=entity, project=project, ref=ref, a=data,
        name=a.name.split(":")[0], number=number, events=events, tree=tree,
        source=a.source_qualified_name if a.source_qualified_name != a.qualified_name else None,
    )


async def tree(request: Request) -> Response:
    """One folder of the version, as an HTML fragment (the page's folder expander) or JSON."""
    entity, project, ref = _where(request)
    a = site(request).artifact(entity, project, ref)
    data = folder_view(request, a)
    render = request.app.state.render
    if wants_fragment(request):
        return render.fragment("_tree.html", entity=entity, project=project, ref=ref, tree=data)
    return render.page(request, "tree.html", data, entity=entity, project=project, ref=ref, tree=data, name=a.name)


async def history(request: Request) -> Response:
    """JSON twin: exactly ``artvcs history --json``."""
    entity, project, ref = _where(request)
    a = site(request).artifact(entity, project, ref)
    events = history_report(a)
    return request.app.state.render.page(request, "history.html", events, entity=entity, project=project, ref=ref, events=events, name=a.name)
