"""``artvcs.BoundingBoxes2D``: labelled boxes over an Image, stored as JSON."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from artvcs.media import extras
from artvcs.media.base import Media, Reader, Writer, field
from artvcs.media.classes import check_labels, labels_from_json, labels_to_json
from artvcs.plumbing.errors import UsageError

_CORNERS = ("minX", "maxX", "minY", "maxY")
_CENTRE = ("middle", "width", "height")


class BoundingBoxes2D(Media):
    """W&B's boxes: ``{"box_data": [{"position": ..., "class_id": int, ...}], "class_labels": {id: name}}``."""

    _log_type = "bounding-boxes"

    def __init__(self, val: Mapping[str, Any], key: str = "") -> None:
        where = f"BoundingBoxes2D {key!r}" if key else "BoundingBoxes2D"
        if not isinstance(val, Mapping) or not isinstance(val.get("box_data"), (list, tuple)):
            raise UsageError(f"{where}: val must be a dict with a 'box_data' list, not {val!r:.60}")
        self._key = key
        self.box_data = [_check_box(b, f"{where} box_data[{i}]") for i, b in enumerate(val["box_data"])]
        labels = val.get("class_labels")
        if labels is None:
            ids = sorted({b["class_id"] for b in self.box_data})
            labels = {i: f"class_{i}" for i in ids}
        self.class_labels = check_labels(labels, where)

    @property
    def _val(self) -> dict[str, Any]:  # W&B's name for the boxes' definition
        return {"box_data": self.box_data, "class_labels": self.class_labels}

    def _encode(self, out: Writer) -> dict[str, Any]:
        return {"_type": "bounding-boxes", "box_data": self.box_data, "class_labels": labels_to_json(self.class_labels)}

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "BoundingBoxes2D":
        self = cls.__new__(cls)
        self._key = ""
        self.box_data = field(doc, "box_data", list, where)
        self.class_labels = labels_from_json(field(doc, "class_labels", dict, where, {}), where)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundingBoxes2D):
            return NotImplemented
        return self.box_data == other.box_data and self.class_labels == other.class_labels

    def __repr__(self) -> str:
        return f"<BoundingBoxes2D {len(self.box_data)} boxes>"


def _number(v: Any, where: str) -> int | float:
    if extras.is_numpy_scalar(v) and v.dtype.kind in "iuf":
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise UsageError(f"{where} is {v!r:.40}; it must be a finite number")
    return v


def _check_box(box: Any, where: str) -> dict[str, Any]:
    """One box, with numpy numbers made plain: a position by corners or by centre, and an int class_id."""
    if not isinstance(box, Mapping) or not isinstance(box.get("position"), Mapping):
        raise UsageError(f"{where} must be a dict with a 'position' dict, not {box!r:.60}")
    pos = box["position"]
    if all(k in pos for k in _CORNERS):
        position = {k: _number(pos[k], f"{where} position.{k}") for k in _CORNERS}
    elif all(k in pos for k in _CENTRE):
        mid = pos["middle"]
        if not isinstance(mid, (list, tuple)) and not extras.is_ndarray(mid) or len(mid) != 2:
            raise UsageError(f"{where} position.middle must be [x, y], not {mid!r:.40}")
        position = {"middle": [_number(m, f"{where} position.middle") for m in mid],
                    "width": _number(pos["width"], f"{where} position.width"),
                    "height": _number(pos["height"], f"{where} position.height")}
    else:
        raise UsageError(f"{where} position must have minX, maxX, minY, maxY or middle, width, height; it has {sorted(pos)}")
    out: dict[str, Any] = {"position": position}
    cid = box.get("class_id")
    if extras.is_numpy_scalar(cid) and cid.dtype.kind in "iu":
        cid = int(cid)
    if not isinstance(cid, int) or isinstance(cid, bool):
        raise UsageError(f"{where} class_id must be an int, not {cid!r:.40}")
    out["class_id"] = cid
    for k, v in box.items():
        if k in ("position", "class_id"):
            continue
        if k == "box_caption" and isinstance(v, str):
            out[k] = v
        elif k == "domain" and v in ("pixel", None):
            out[k] = v
        elif k == "scores" and isinstance(v, Mapping) and all(isinstance(s, str) for s in v):
            out[k] = {s: _number(x, f"{where} scores.{s}") for s, x in v.items()}
        else:
            raise UsageError(f"{where}: {k!r}: {v!r:.40} is not a box field (box_caption: str, scores: {{str: number}}, domain: 'pixel')")
    return out
