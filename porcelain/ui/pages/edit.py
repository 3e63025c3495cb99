"""The edits ``artvcs ui --edit`` allows: aliases, description, metadata and tags of a version.

Each goes through the binding exactly as ``artvcs alias``/``describe``/``meta`` do (``Artifact.save``
validates and records it), after the CSRF token is checked; without --edit every POST is refused.
"""
from __future__ import annotations

from urllib.parse import parse_qs, quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from artvcs.errors import ArtvcsError
from artvcs.porcelain.app import parse_value
from artvcs.porcelain.ui.pages.lookup import site

MAX_FORM = 1024 * 1024


async def _form(request: Request) -> dict[str, str]:
    """A URL-encoded form body (what the pages' forms send), one value per field."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise HTTPException(415, "edits are sent as application/x-www-form-urlencoded forms")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise HTTPException(413, f"form of {len(body)} bytes is over {MAX_FORM}")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise HTTPException(400, "form is not UTF-8") from None
    return {k: v[-1] for k, v in fields.items()}


def _apply(a, action: str, form: dict[str, str]) -> None:
    if action == "alias-add":
        a.aliases.append(form.get("alias", ""))
    elif action == "alias-remove":
        alias = form.get("alias", "")
        if alias not in a.aliases:
            raise HTTPException(400, f"{a.name} has no alias {alias!r}")
        a.aliases.remove(alias)
    elif action == "description":
        a.description = form.get("description", "")
    elif action == "metadata-set":
        a.metadata[form.get("key", "")] = parse_value(form.get("value", ""), "value")
    elif action == "metadata-remove":
        key = form.get("key", "")
        if key not in a.metadata:
            raise HTTPException(400, f"the metadata of {a.name} has no key {key!r}")
        del a.metadata[key]
    elif action == "tags":
        a.tags = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
    else:
        raise HTTPException(400, f"unknown edit {action!r}: alias-add, alias-remove, description, metadata-set, metadata-remove or tags")
    a.save()


async def edit(request: Request) -> Response:
    """POST ``/a/E/P/name:vN/edit``: one edit, then back to the version's page (by number: an alias may have moved)."""
    if not request.app.state.render.edit:
        raise HTTPException(403, "read-only: start 'artvcs ui --edit' to change aliases, description, metadata or tags")
    form = await _form(request)
    if not request.app.state.csrf.check(form.get("csrf")):
        raise HTTPException(403, "refused: the form's CSRF token is missing or wrong; reload the page and try again")
    entity, project, ref = (request.path_params[k] for k in ("entity", "project", "ref"))
    a = site(request).artifact(entity, project, ref)
    try:
        _apply(a, form.get("action", ""), form)
    except ArtvcsError as e:
        raise HTTPException(400, str(e)) from None
    return RedirectResponse(f"/a/{quote(entity)}/{quote(project)}/{quote(a.name, safe=':')}", 303)
