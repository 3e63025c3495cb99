"""A diff between any two versions: entries added, removed and modified with their sizes (paged), and
the changes of metadata and description."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from artvcs.porcelain.reports import diff_report
from artvcs.porcelain.ui.pages.lookup import page_of, site

CHANGES_PAGE = 500


def _split(spec: str) -> tuple[str, str, str]:
    parts = spec.split("/")
    if len(parts) != 3 or ":" not in parts[2]:
        raise HTTPException(404, f"{spec!r} is not a version: give entity/project/name:vN (or :alias)")
    return parts[0], parts[1], parts[2]


def _attr_changes(old: dict, new: dict) -> list[dict]:
    """Which metadata keys and which other attributes differ, with both values."""
    out = []
    for key in sorted(set(old["metadata"]) | set(new["metadata"])):
        a, b = old["metadata"].get(key), new["metadata"].get(key)
        if a != b:
            out.append({"what": f"metadata.{key}", "old": a, "new": b})
    for key in ("description", "type", "tags", "ttl_seconds", "digest", "size", "file_count"):
        if old[key] != new[key]:
            out.append({"what": key, "old": old[key], "new": new[key]})
    return out


async def diff(request: Request) -> Response:
    """``/diff?old=E/P/name:v0&new=E/P/name:v1``. JSON twin: exactly ``artvcs diff --json OLD NEW``."""
    from artvcs.porcelain.app import summary

    s = site(request)
    old_spec, new_spec = request.query_params.get("old", ""), request.query_params.get("new", "")
    old, new = s.artifact(*_split(old_spec)), s.artifact(*_split(new_spec))
    report = diff_report(old, new)
    page = page_of(request, len(report["changes"]), CHANGES_PAGE, 10_000)
    shown = report["changes"][page.start : page.start + page.size]
    return request.app.state.render.page(
        request, "diff.html", report, old=old.qualified_name, new=new.qualified_name, old_spec=old_spec, new_spec=new_spec,
        stat=report["stat"], changes=shown, page=page, attrs=_attr_changes(summary(old), summary(new)),
    )
