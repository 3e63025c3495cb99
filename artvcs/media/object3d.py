"""``artvcs.Object3D``: a point cloud stored as NPY, or a 3-D model file (glTF, GLB, OBJ...) as given."""
from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from typing import Any

from artvcs.media import extras
from artvcs.media.base import FileMedia, Reader, Writer, dumps, field
from artvcs.media.values import npy_bytes, npy_load, same
from artvcs.plumbing.errors import UsageError

FILE_FORMATS = ("obj", "gltf", "glb", "babylon", "stl", "pts.json")
SCENE_KEYS = ("type", "points", "boxes", "vectors")


class Object3D(FileMedia):
    """A point cloud (N, 3|4|6) array, W&B's ``{"type": "lidar/beta", "points": ...}`` scene, or a model file."""

    _log_type = "object3D-file"

    def __init__(self, data_or_path: Any, caption: str | None = None, file_type: str | None = None) -> None:
        if caption is not None and not isinstance(caption, str):
            raise UsageError(f"Object3D: caption must be a string, not {caption!r:.40}")
        self._caption = caption
        self._points: Any = None
        self._scene: dict[str, Any] | None = None
        self._data: bytes | None = None
        if isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            fmt = next((f for f in FILE_FORMATS if path.lower().endswith("." + f)), None)
            if fmt is None:
                raise UsageError(f"Object3D: {path!r} is not a 3-D file artvcs keeps; extensions: {', '.join(FILE_FORMATS)}")
            if not os.path.isfile(path):
                raise UsageError(f"Object3D: {path!r} is not a file")
            with open(path, "rb") as f:
                self._set_file(f.read(), fmt, repr(path))
        elif hasattr(data_or_path, "read"):
            if file_type not in FILE_FORMATS:
                raise UsageError(f"Object3D: reading a file object needs file_type, one of {', '.join(FILE_FORMATS)}")
            raw = data_or_path.read()
            self._set_file(raw.encode("utf-8") if isinstance(raw, str) else raw, file_type, "the file object")
        elif extras.is_ndarray(data_or_path):
            self._points = _check_points(data_or_path, "Object3D")
            self._format = "npy"
        elif isinstance(data_or_path, Mapping):
            scene = dict(data_or_path)
            unknown = sorted(set(scene) - set(SCENE_KEYS))
            if unknown or not extras.is_ndarray(scene.get("points")):
                raise UsageError(f"Object3D: a scene dict has a numpy 'points' array and may have {SCENE_KEYS}; got keys {sorted(scene)}")
            self._points = _check_points(scene.pop("points"), "Object3D scene")
            try:
                dumps(scene)
            except (TypeError, ValueError) as e:
                raise UsageError(f"Object3D: the scene's type, boxes and vectors must be plain JSON: {e}") from None
            self._scene, self._format = json.loads(dumps(scene)), "npy"
        else:
            raise UsageError(f"Object3D: data_or_path must be a numpy array, a scene dict or a path, not {type(data_or_path).__name__}")

    def _set_file(self, data: bytes, fmt: str, what: str) -> None:
        if fmt == "gltf":
            _check_gltf(data, what)
        self._data, self._format = data, fmt

    @property
    def points(self) -> Any:
        """The point cloud (None for a model file)."""
        return self._points

    def _encode(self, out: Writer) -> dict[str, Any]:
        doc: dict[str, Any] = {"_type": "object3D-file", "format": self._format}
        if self._points is not None:
            doc["path"] = out.blob("object3D", npy_bytes(self._points, "Object3D"), "npy")
            if self._scene is not None:
                doc["scene"] = self._scene
        else:
            doc["path"] = out.blob("object3D", self._data, self._format)
            doc["size"] = len(self._data)
        if self._caption is not None:
            doc["caption"] = self._caption
        return doc

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Object3D":
        self = cls.__new__(cls)
        self._format = field(doc, "format", str, where)
        self._caption = field(doc, "caption", str, where, None)
        data = src.bytes(field(doc, "path", str, where), where)
        self._points, self._scene, self._data = None, None, None
        if self._format == "npy":
            self._points = npy_load(data, where)
            self._scene = field(doc, "scene", dict, where, None)
        else:
            self._data = data
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Object3D):
            return NotImplemented
        if (self._format, self._caption, self._scene) != (other._format, other._caption, other._scene):
            return False
        if self._points is not None:
            return same(self._points, other._points)
        return self._data == other._data

    def __repr__(self) -> str:
        what = f"{len(self._points)} points" if self._points is not None else self._format
        return f"<Object3D {what}>"


def _check_points(arr: Any, where: str) -> Any:
    if arr.ndim != 2 or arr.shape[1] not in (3, 4, 6) or arr.dtype.kind not in "iuf":
        raise UsageError(f"{where}: a point cloud is a numeric (N, 3), (N, 4) or (N, 6) array, not {arr.dtype} of shape {arr.shape}")
    return arr.copy()


def _check_gltf(data: bytes, what: str) -> None:
    """A .gltf is stored alone, so its buffers and images must be embedded (data: URIs)."""
    try:
        doc = json.load(io.BytesIO(data))
    except ValueError as e:
        raise UsageError(f"Object3D: {what} is not glTF JSON: {e}") from None
    for key in ("buffers", "images"):
        for item in doc.get(key, []) if isinstance(doc, dict) else []:
            uri = item.get("uri", "") if isinstance(item, dict) else ""
            if uri and not uri.startswith("data:"):
                raise UsageError(f"Object3D: {what} refers to the external file {uri!r}; embed it (data: URI) or use .glb")
