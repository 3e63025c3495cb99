"""A file of a version: its preview page, its raw bytes (a download, or inline for images, audio and
video), an HTML file inside a sandboxed frame, and media objects (a Table's rows paged, an Image with
its boxes and masks)."""
from __future__ import annotations

import base64
import io
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from artvcs.logged import browse
from artvcs.errors import ArtvcsError
from artvcs.porcelain.reports import entry_json
from artvcs.porcelain.ui.guard import PREVIEW_CSP
from artvcs.porcelain.ui.pages.lookup import page_of, site
from artvcs.porcelain.ui.preview import HEAD, INLINE_TYPES, extension, preview, table_cell

TABLE_PAGE = 50


def _entry(request: Request):
    entity, project, ref = (request.path_params[k] for k in ("entity", "project", "ref"))
    a = site(request).artifact(entity, project, ref)
    path = request.path_params["path"]
    try:
        e = browse.entry(a, path)
    except ArtvcsError as err:
        raise HTTPException(404, str(err)) from None
    if e is None:
        raise HTTPException(404, f"{a.name} has no file {path!r}")
    return a, e


def _head(a, e) -> bytes:
    with browse.open_stored(a, e) as f:
        return f.read(HEAD + 1)


async def file_page(request: Request) -> Response:
    """JSON twin: the entry as ``artvcs show --files --json`` lists it."""
    a, e = _entry(request)
    entity, project, ref = (request.path_params[k] for k in ("entity", "project", "ref"))
    problem = None
    shown = preview(e.path, b"", e.size)
    media = None
    if not browse.is_stored(e):
        shown, problem = None, "a reference: its bytes are not stored here"
    else:
        try:
            if shown.kind == "media":
                media = _media(request, a, e.path)
            elif shown.kind not in ("image", "audio", "video", "html"):
                shown = preview(e.path, _head(a, e), e.size)
        except ArtvcsError as err:
            shown, problem = None, str(err)
    return request.app.state.render.page(
        request, "file.html", entry_json(e), entity=entity, project=project, ref=ref, name=a.name, entry=entry_json(e),
        preview=shown, problem=problem, media=media, parent=e.path.rpartition("/")[0],
    )


def _media(request: Request, a, path: str) -> dict:
    """What the page shows of a media object: a Table's columns and one page of rows, an Image's
    pixels with boxes and masks, or the object's kind."""
    obj = browse.media_object(a, path)
    kind = type(obj).__name__
    if kind == "Table" or hasattr(obj, "columns") and hasattr(obj, "data"):
        page = page_of(request, len(obj.data), TABLE_PAGE)
        rows = [[table_cell(v) for v in r] for r in obj.data[page.start : page.start + page.size]]
        return {"kind": kind, "columns": [str(c) for c in obj.columns], "rows": rows, "page": page, "first": page.start}
    if kind == "Image":
        return {"kind": kind, **image_view(obj)}
    return {"kind": kind, "repr": repr(obj)}


def image_view(img) -> dict:
    """An Image as the page draws it: a data: URL of its pixels, its boxes as rectangles in pixels,
    its masks as coloured see-through PNGs (with numpy and Pillow, the media extra)."""
    data, fmt = browse.image_file(img)
    mime = INLINE_TYPES.get("." + fmt.lower(), "image/png")
    out = {"width": img.width, "height": img.height, "src": f"data:{mime};base64," + base64.b64encode(data).decode(),
           "boxes": [], "masks": [], "font": max(4, round(min(img.width, img.height) / 10))}
    for key, b in img.boxes.items():
        for box in b.box_data:
            pos, scale = box.get("position", {}), (1, 1) if box.get("domain") == "pixel" else (img.width, img.height)
            if "middle" in pos:
                x, y = pos["middle"][0] - pos["width"] / 2, pos["middle"][1] - pos["height"] / 2
                w, h = pos["width"], pos["height"]
            else:
                x, y, w, h = pos.get("minX", 0), pos.get("minY", 0), pos.get("maxX", 0) - pos.get("minX", 0), pos.get("maxY", 0) - pos.get("minY", 0)
            label = box.get("box_caption") or b.class_labels.get(box.get("class_id"), str(box.get("class_id", "")))
            out["boxes"].append({"set": key, "x": x * scale[0], "y": y * scale[1], "w": w * scale[0], "h": h * scale[1], "label": str(label)})
    for key, m in img.masks.items():
        out["masks"].append({"set": key, "src": _mask_png(m.mask_data), "labels": {str(k): str(v) for k, v in m.class_labels.items()}})
    return out


PALETTE = [(0, 0, 0), (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128)]


def _mask_png(mask) -> str:
    """Class ids -> a PNG where class 0 is transparent and each other class has a colour."""
    from PIL import Image as PILImage
    import numpy as np

    ids = np.asarray(mask).astype("uint8")
    flat = [c for i in range(256) for c in PALETTE[i % len(PALETTE) if i else 0]]
    img = PILImage.fromarray(ids, "P")
    img.putpalette(flat)
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=0)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _stream(a, e, chunk: int = 1 << 20):
    f = browse.open_stored(a, e)  # verified against its digest before the first byte goes out

    def chunks():
        with f:
            while block := f.read(chunk):
                yield block

    return chunks()


async def raw(request: Request) -> Response:
    """The file's bytes: a download, or inline (``?inline=1``) for image, audio and video types, which run no script."""
    a, e = _entry(request)
    try:
        body = _stream(a, e)
    except ArtvcsError as err:
        raise HTTPException(409, str(err)) from None
    mime = INLINE_TYPES.get(extension(e.path))
    inline = request.query_params.get("inline") == "1" and mime is not None
    name = e.path.rsplit("/", 1)[-1]
    headers = {"Content-Security-Policy": PREVIEW_CSP, "Content-Disposition":
               f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name, safe='')}"}
    if e.size is not None:
        headers["Content-Length"] = str(e.size)
    return StreamingResponse(body, media_type=mime if inline else "application/octet-stream", headers=headers)


async def html_frame(request: Request) -> Response:
    """An HTML file for the page's sandboxed frame: served with a CSP ``sandbox`` that forbids script,
    forms, plugins and every fetch, so it shows as a document and nothing in it runs."""
    a, e = _entry(request)
    try:
        with browse.open_stored(a, e) as f:
            body = f.read(8 * 1024 * 1024)
    except ArtvcsError as err:
        raise HTTPException(409, str(err)) from None
    return Response(body, media_type="text/html", headers={"Content-Security-Policy": PREVIEW_CSP})
