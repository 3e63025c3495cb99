"""``artvcs.Image``: pixels stored as a PNG (or the image file as given), with masks, boxes and classes.

The image file is made when the object is made, as W&B does: a numpy array
or Pillow image becomes a lossless PNG (bool, uint8 and uint16 arrays keep
every pixel; other dtypes are scaled to uint8 as W&B does), and a path keeps
its file's bytes. ``image`` gives the pixels back as a Pillow image.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras, pixels
from artvcs.media.base import FileMedia, Reader, Writer, digest, field
from artvcs.media.boxes import BoundingBoxes2D
from artvcs.media.classes import Classes
from artvcs.media.masks import ImageMask
from artvcs.plumbing.errors import UsageError


class Image(FileMedia):
    """An image: a numpy array, a Pillow image, a path, or another Image."""

    _log_type = "image-file"

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        grouping: int | None = None,
        classes: Classes | Sequence[Mapping[str, Any]] | None = None,
        boxes: Mapping[str, BoundingBoxes2D | Mapping[str, Any]] | None = None,
        masks: Mapping[str, ImageMask | Mapping[str, Any]] | None = None,
        file_type: str | None = None,
        normalize: bool = True,
    ) -> None:
        if caption is not None and not isinstance(caption, str):
            raise UsageError(f"Image: caption must be a string, not {caption!r:.40}")
        if grouping is not None and (not isinstance(grouping, int) or isinstance(grouping, bool)):
            raise UsageError(f"Image: grouping must be an int, not {grouping!r:.40}")
        self._caption, self._grouping = caption, grouping
        self._pil: Any = None
        if isinstance(data_or_path, Image):
            other = data_or_path
            self._data, self._format, self._width, self._height = other._data, other._format, other._width, other._height
            self._pil = other._pil
        elif isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            if not os.path.isfile(path):
                raise UsageError(f"Image: {path!r} is not a file")
            with open(path, "rb") as f:
                self._data = f.read()
            image = pixels.open_bytes(self._data, f"Image {path!r}")
            self._format = (image.format or "png").lower()
            self._width, self._height = image.size
        else:
            if extras.is_ndarray(data_or_path):
                image = pixels.from_array(data_or_path, normalize, "Image")
            elif extras.is_pil_image(data_or_path):
                image = data_or_path
            else:
                raise UsageError(
                    f"Image: data_or_path must be a numpy array, a PIL image, a path or an Image, not {type(data_or_path).__name__}"
                )
            if mode is not None and mode != image.mode:
                image = image.convert(mode)
            fmt = (file_type or "png").lower()
            self._data = pixels.encode(image, fmt, "Image")
            self._format = {"jpg": "jpeg"}.get(fmt, fmt)
            self._width, self._height = image.size
        self._digest = digest(self._data)
        self._masks = {k: m if isinstance(m, ImageMask) else ImageMask(m, k) for k, m in _named(masks, "masks").items()}
        self._boxes = {k: b if isinstance(b, BoundingBoxes2D) else BoundingBoxes2D(b, k) for k, b in _named(boxes, "boxes").items()}
        for k, m in self._masks.items():
            if m.mask_data.shape != (self._height, self._width):
                raise UsageError(f"Image: mask {k!r} is {m.mask_data.shape}, the image is (H, W) = ({self._height}, {self._width})")
        if classes is None and (self._masks or self._boxes):
            labels = [m.class_labels for m in self._masks.values()] + [b.class_labels for b in self._boxes.values()]
            classes = Classes.from_labels(*labels) if any(labels) else None  # none named: W&B refuses it at add
        self._classes = classes if isinstance(classes, Classes) or classes is None else Classes(classes)

    # -- what W&B users read ------------------------------------------------------------
    @property
    def image(self) -> Any:
        """The pixels, as a Pillow image (decoded on first use)."""
        if self._pil is None:
            self._pil = pixels.open_bytes(self._data, "Image", MediaFormatError)
        return self._pil

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def masks(self) -> dict[str, ImageMask]:
        return dict(self._masks)

    @property
    def boxes(self) -> dict[str, BoundingBoxes2D]:
        return dict(self._boxes)

    @property
    def classes(self) -> Classes | None:
        return self._classes

    # -- storage ------------------------------------------------------------------------------
    def _encode(self, out: Writer) -> dict[str, Any]:
        if (self._masks or self._boxes) and self._classes is None:
            raise UsageError(
                "classes must be passed to wandb.Image which have masks or bounding boxes when adding to artifacts: "
                "give Image(classes=...) or class_labels in each mask and box"
            )
        ext = pixels.EXTENSIONS.get(self._format, self._format)
        doc: dict[str, Any] = {
            "_type": "image-file",
            "path": out.blob("images", self._data, ext, self._digest),
            "format": self._format,
            "size": len(self._data),
            "width": self._width,
            "height": self._height,
        }
        if self._caption is not None:
            doc["caption"] = self._caption
        if self._grouping is not None:
            doc["grouping"] = self._grouping
        if self._masks:
            doc["masks"] = {k: out.inline(m) for k, m in self._masks.items()}
        if self._boxes:
            doc["boxes"] = {k: out.inline(b) for k, b in self._boxes.items()}
        if self._classes is not None:
            path, d = out.child(self._classes, "classes")
            doc["classes"] = {"type": "classes-file", "path": path, "digest": d}
        return doc

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Image":
        self = cls.__new__(cls)
        self._data = src.bytes(field(doc, "path", str, where), where)
        self._digest = digest(self._data)
        self._format = field(doc, "format", str, where, "png")
        self._width = field(doc, "width", int, where)
        self._height = field(doc, "height", int, where)
        self._caption = field(doc, "caption", str, where, None)
        self._grouping = field(doc, "grouping", int, where, None)
        self._pil = None
        self._masks = {k: ImageMask._decode(m, src, where) for k, m in field(doc, "masks", dict, where, {}).items()}
        self._boxes = {k: BoundingBoxes2D._decode(b, src, where) for k, b in field(doc, "boxes", dict, where, {}).items()}
        for k, m in self._masks.items():
            m._key = k
        for k, b in self._boxes.items():
            b._key = k
        ref = field(doc, "classes", dict, where, None)
        self._classes = src.object(field(ref, "path", str, where), where) if ref is not None else None
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        if (self._format, self._width, self._height, self._caption, self._grouping) != (
            other._format, other._width, other._height, other._caption, other._grouping
        ):
            return False
        if self._masks != other._masks or self._boxes != other._boxes or self._classes != other._classes:
            return False
        if self._digest == other._digest:
            return True
        a, b = self.image, other.image
        return a.mode == b.mode and a.size == b.size and a.tobytes() == b.tobytes()

    def __repr__(self) -> str:
        return f"<Image {self._format} {self._width}x{self._height}{' ' + repr(self._caption) if self._caption else ''}>"


def _named(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise UsageError(f"Image: {what} must be a dict of names to definitions, not {value!r:.60}")
    return dict(value)
