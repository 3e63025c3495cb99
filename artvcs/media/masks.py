"""``artvcs.ImageMask``: a per-pixel class map over an Image, stored as a grey PNG."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras, pixels
from artvcs.media.base import Media, Reader, Writer, field
from artvcs.media.classes import check_labels, labels_from_json, labels_to_json
from artvcs.media.values import same
from artvcs.plumbing.errors import UsageError


class ImageMask(Media):
    """W&B's mask: ``{"mask_data": 2-D int array, "class_labels": {id: name}}`` or ``{"path": png}``."""

    _log_type = "mask"

    def __init__(self, val: Mapping[str, Any], key: str = "") -> None:
        where = f"ImageMask {key!r}" if key else "ImageMask"
        if not isinstance(val, Mapping) or ("mask_data" not in val and "path" not in val):
            raise UsageError(f"{where}: val must be a dict with 'mask_data' (a 2-D array) or 'path', not {val!r:.60}")
        np = extras.numpy(where)
        if "path" in val:
            with open(os.fspath(val["path"]), "rb") as f:
                raw = f.read()
            image = pixels.open_bytes(raw, f"{where} {val['path']!r}")
            if image.mode not in ("L", "P", "1"):
                raise UsageError(f"{where}: {val['path']!r} is a {image.mode!r} image; a mask file has one channel (L or P)")
            data = np.asarray(image).astype(np.uint8)
            png = raw if image.format == "PNG" and image.mode == "L" else None  # kept as given, as W&B keeps it
        else:
            data, png = val["mask_data"], None
            if not extras.is_ndarray(data):
                data = np.asarray(data)
            if data.ndim != 2 or data.dtype.kind not in "iub":
                raise UsageError(f"{where}: mask_data must be a 2-D integer array, not {data.dtype} of shape {data.shape}")
            if data.size and (data.min() < 0 or data.max() > 255):
                raise UsageError(f"{where}: mask_data values must be class ids 0..255, found {data.min()}..{data.max()}")
        self._key = key
        self.mask_data = data
        if "class_labels" in val:
            self.class_labels = check_labels(val["class_labels"], where)
        elif "path" in val:  # W&B names no classes for a mask file
            self.class_labels = {}
        else:  # W&B's default names
            self.class_labels = {int(c): f"class_{int(c)}" for c in np.unique(data)}
        self._png: bytes | None = png

    @property
    def _val(self) -> dict[str, Any]:  # W&B's name for the mask's definition
        return {"mask_data": self.mask_data, "class_labels": self.class_labels}

    def _png_bytes(self) -> bytes:
        if self._png is None:
            np = extras.numpy("an ImageMask")
            image = extras.pil_image("an ImageMask").fromarray(self.mask_data.astype(np.uint8))
            self._png = pixels.encode(image, "png", "ImageMask")
        return self._png

    def _encode(self, out: Writer) -> dict[str, Any]:
        h, w = self.mask_data.shape
        png = self._png_bytes()
        return {
            "_type": "mask",
            "path": out.blob("masks", png, "png"),
            "format": "png",
            "size": len(png),
            "width": w,
            "height": h,
            "dtype": self.mask_data.dtype.str,
            "class_labels": labels_to_json(self.class_labels),
        }

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "ImageMask":
        np = extras.numpy("reading an ImageMask")
        png = src.bytes(field(doc, "path", str, where), where)
        data = np.asarray(pixels.open_bytes(png, where, MediaFormatError)).astype(field(doc, "dtype", str, where, "|u1"))
        self = cls.__new__(cls)
        self._key, self.mask_data, self._png = "", data, png
        self.class_labels = labels_from_json(field(doc, "class_labels", dict, where, {}), where)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageMask):
            return NotImplemented
        return same(self.mask_data, other.mask_data) and self.class_labels == other.class_labels

    def __repr__(self) -> str:
        return f"<ImageMask {self.mask_data.shape} {len(self.class_labels)} classes>"
