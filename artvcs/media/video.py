"""``artvcs.Video``: frames stored as an MP4 (or GIF) to watch, plus the exact frames as NPY.

Video codecs are lossy, so an MP4 alone cannot give back the frames that
went in. A Video made from a numpy array therefore stores two parts: the
rendition (H.264 MP4 through imageio-ffmpeg, or a GIF through Pillow) and
the array itself in NPY, from which ``frames`` comes back bit for bit. A
video made from a file keeps that file's bytes as given.
"""
from __future__ import annotations

import io
import os
from typing import Any

from artvcs.media import extras, pixels
from artvcs.media.base import FileMedia, Reader, Writer, digest, field
from artvcs.media.values import npy_bytes, npy_load, same
from artvcs.plumbing.errors import UsageError

FILE_FORMATS = ("mp4", "webm", "gif", "ogg", "mov")
ARRAY_FORMATS = ("mp4", "gif")


class Video(FileMedia):
    """Video: numpy frames (T, C, H, W) or a batch (B, T, C, H, W), as W&B takes them, or a path."""

    _log_type = "video-file"

    def __init__(self, data_or_path: Any, caption: str | None = None, fps: int | None = None, format: str | None = None) -> None:
        if caption is not None and not isinstance(caption, str):
            raise UsageError(f"Video: caption must be a string, not {caption!r:.40}")
        if fps is not None and (not isinstance(fps, (int, float)) or isinstance(fps, bool) or fps <= 0):
            raise UsageError(f"Video: fps must be a positive number, not {fps!r:.40}")
        self._caption = caption
        self._frames: Any = None
        if isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            ext = os.path.splitext(path)[1].lstrip(".").lower()
            if ext not in FILE_FORMATS:
                raise UsageError(f"Video: {path!r} is not a video file artvcs keeps; extensions: {', '.join(FILE_FORMATS)}")
            if not os.path.isfile(path):
                raise UsageError(f"Video: {path!r} is not a file")
            with open(path, "rb") as f:
                self._data = f.read()
            self._format, self._fps, self._width, self._height = ext, fps, None, None
        elif extras.is_ndarray(data_or_path):
            fmt = (format or "mp4").lower()
            if fmt not in ARRAY_FORMATS:
                raise UsageError(f"Video: format {format!r} is not one of {', '.join(ARRAY_FORMATS)}")
            arr = data_or_path
            if arr.ndim not in (4, 5) or arr.shape[-3] not in (1, 3, 4) or arr.size == 0 or arr.dtype.kind not in "iuf":
                raise UsageError(
                    f"Video: frames must be a numeric array (T, C, H, W) or (B, T, C, H, W) with C in 1, 3, 4; "
                    f"got {arr.dtype} of shape {arr.shape}"
                )
            self._frames = arr.copy()
            self._fps, self._format = fps or 4, fmt
            rgb = _to_rgb(arr)
            self._height, self._width = rgb.shape[1:3]
            self._data = _render(rgb, self._fps, fmt)
        else:
            raise UsageError(f"Video: data_or_path must be a numpy array or a path, not {type(data_or_path).__name__}")
        self._digest = digest(self._data)

    @property
    def frames(self) -> Any:
        """The frames (T, C, H, W) as given; for a video file, decoded (needs imageio-ffmpeg)."""
        if self._frames is None:
            iio = extras.require("imageio.v3", "decoding a Video file")
            extras.require("imageio_ffmpeg", "decoding a Video file")
            frames = iio.imread(self._data, extension=f".{self._format}", index=None)
            self._frames = frames.transpose(0, 3, 1, 2) if frames.ndim == 4 else frames
        return self._frames

    @property
    def fps(self) -> float | None:
        return self._fps

    def _encode(self, out: Writer) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_type": "video-file",
            "path": out.blob("videos", self._data, self._format, self._digest),
            "format": self._format,
            "size": len(self._data),
        }
        for key, value in (("width", self._width), ("height", self._height), ("fps", self._fps), ("caption", self._caption)):
            if value is not None:
                doc[key] = value
        if self._frames is not None and self._width is not None:
            doc["frames_path"] = out.blob("videos", npy_bytes(self._frames, "Video"), "npy")
        return doc

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Video":
        self = cls.__new__(cls)
        self._data = src.bytes(field(doc, "path", str, where), where)
        self._digest = digest(self._data)
        self._format = field(doc, "format", str, where)
        self._width = field(doc, "width", int, where, None)
        self._height = field(doc, "height", int, where, None)
        self._fps = field(doc, "fps", (int, float), where, None)
        self._caption = field(doc, "caption", str, where, None)
        frames = field(doc, "frames_path", str, where, None)
        self._frames = npy_load(src.bytes(frames, where), where) if frames is not None else None
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Video):
            return NotImplemented
        if (self._format, self._fps, self._caption) != (other._format, other._fps, other._caption):
            return False
        if self._width is not None and other._width is not None:  # both made from arrays
            return same(self._frames, other._frames)
        return self._digest == other._digest

    def __repr__(self) -> str:
        return f"<Video {self._format}{f' {self._width}x{self._height}' if self._width else ''}>"


def _to_rgb(arr: Any) -> Any:
    """(T, H, W, 3) uint8 frames to encode: a batch tiled into a grid as W&B does, grey made RGB, alpha dropped."""
    np = extras.numpy("Video")
    if arr.ndim == 5:
        b, t, c, h, w = arr.shape
        n = 1 << (b - 1).bit_length()  # pad the batch to a power of two, as W&B does
        arr = np.concatenate([arr, np.zeros((n - b, t, c, h, w), dtype=arr.dtype)]) if n > b else arr
        rows = 1 << ((n.bit_length() - 1) // 2)
        cols = n // rows
        arr = arr.reshape(rows, cols, t, c, h, w).transpose(2, 3, 0, 4, 1, 5).reshape(t, c, rows * h, cols * w)
    frames = arr.transpose(0, 2, 3, 1)
    frames = frames if frames.dtype == np.uint8 else pixels.to_uint8(frames)
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    return np.ascontiguousarray(frames[..., :3])


def _render(rgb: Any, fps: float, fmt: str) -> bytes:
    """MP4 (H.264, yuv420p, even size by edge padding) or GIF bytes of (T, H, W, 3) uint8 frames."""
    np = extras.numpy("Video")
    if fmt == "gif":
        pil = extras.pil_image("a GIF Video")
        images = [pil.fromarray(f) for f in rgb]
        buf = io.BytesIO()
        images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
        return buf.getvalue()
    iio = extras.require("imageio.v3", "an MP4 Video")
    extras.require("imageio_ffmpeg", "an MP4 Video")
    t, h, w, _ = rgb.shape
    if h % 2 or w % 2:
        rgb = np.pad(rgb, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return iio.imwrite("<bytes>", rgb, extension=".mp4", fps=fps, codec="libx264", macro_block_size=1,
                       ffmpeg_log_level="error", plugin="FFMPEG")
