"""A collection's versions: sortable by number, creation time, size or file count, and paged, so a
collection of 10,000 versions shows a page after reading only that page's versions in full."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from artvcs.logged import browse
from artvcs.porcelain.reports import versions_report
from artvcs.porcelain.ui.pages.lookup import choice_param, page_of, site

SORTS = {"version": lambda r: r.number, "created": lambda r: (r.created_at, r.number),
         "size": lambda r: (r.size, r.number), "files": lambda r: (r.file_count, r.number)}


async def versions(request: Request) -> Response:
    """JSON twin: the page's slice of ``artvcs versions --json`` (all of it when it fits one page);
    ``Link`` and ``X-Total-Count`` headers tell the rest."""
    entity, project, name = (request.path_params[k] for k in ("entity", "project", "name"))
    s = site(request)
    coll = s.collection(entity, project, name)
    sort = choice_param(request, "sort", tuple(SORTS))
    order = choice_param(request, "order", ("asc", "desc"))
    repo = s.api._context.repo
    if sort == "version":  # the ref names alone: no version is read but the page's
        numbers = browse.version_numbers(repo, entity, project, name)
        if order == "desc":
            numbers.reverse()
    else:
        rows = browse.version_rows(repo, browse.version_refs(repo, entity, project, name))
        numbers = [r.number for r in sorted(rows, key=SORTS[sort], reverse=order == "desc")]
    page = page_of(request, len(numbers), 50)
    arts = [s.artifact(entity, project, f"{name}:v{n}") for n in numbers[page.start : page.start + page.size]]
    data = versions_report(arts)
    return request.app.state.render.page(
        request, "versions.html", data, headers=page.link_header(request),
        entity=entity, project=project, name=name, type_=coll.type, portfolio=not coll.is_sequence(),
        rows=data, page=page, sort=sort, order=order, aliases=coll.aliases,
    )
