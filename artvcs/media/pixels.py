"""Pixels to image files and back, through Pillow: lossless PNG unless asked otherwise."""
from __future__ import annotations

import io
from typing import Any

from artvcs.media import extras
from artvcs.plumbing.errors import UsageError

#: Pillow modes that PNG stores exactly
PNG_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "I;16")
#: file extension of each format Pillow reports
EXTENSIONS = {"jpeg": "jpg", "tiff": "tiff", "png": "png", "gif": "gif", "bmp": "bmp", "webp": "webp"}


def encode(image: Any, file_type: str, where: str) -> bytes:
    """The bytes of a Pillow image saved as ``file_type`` (png: every mode in PNG_MODES, exactly)."""
    fmt = {"jpg": "jpeg"}.get(file_type.lower(), file_type.lower())
    if fmt not in EXTENSIONS:
        raise UsageError(f"{where}: file_type {file_type!r} is not one of {', '.join(sorted(EXTENSIONS))}")
    if fmt == "png" and image.mode not in PNG_MODES:
        raise UsageError(
            f"{where}: a {image.mode!r} image cannot be stored as PNG; PNG keeps modes {', '.join(PNG_MODES)}: "
            "convert it first, e.g. image.convert('RGB')"
        )
    buf = io.BytesIO()
    try:
        image.save(buf, format=fmt.upper())
    except (OSError, ValueError, KeyError) as e:
        raise UsageError(f"{where}: cannot save a {image.mode!r} image as {fmt}: {e}") from None
    return buf.getvalue()


def open_bytes(data: bytes, where: str, error: type[Exception] = UsageError) -> Any:
    """A loaded Pillow image of an image file's bytes (``error`` if Pillow cannot read them)."""
    pil = extras.pil_image(f"reading {where}")
    try:
        image = pil.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError) as e:
        raise error(f"{where}: not an image Pillow can read: {e}") from None
    return image


def from_array(arr: Any, normalize: bool, where: str) -> Any:
    """A Pillow image of a numpy array: bool, uint8 and uint16 exactly; other dtypes scaled as W&B does."""
    np = extras.numpy(where)
    pil = extras.pil_image(where)
    shape = arr.shape
    if arr.ndim == 3 and shape[-1] == 1:
        arr = arr[..., 0]
    if arr.size == 0 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (2, 3, 4))):
        hint = "; transpose channels-first data with arr.transpose(1, 2, 0)" if arr.ndim == 3 and shape[0] in (1, 3, 4) else ""
        raise UsageError(f"{where}: an array of shape {shape} is not an image: expected (H, W) or (H, W, 1|2|3|4){hint}")
    if arr.dtype == np.bool_:
        if arr.ndim != 2:
            raise UsageError(f"{where}: a bool image must be 2-D (H, W), not of shape {shape}")
        return pil.fromarray(np.ascontiguousarray(arr))
    if arr.dtype == np.uint16 and arr.ndim == 2:
        return pil.fromarray(np.ascontiguousarray(arr))
    if arr.dtype != np.uint8:
        if arr.dtype.kind not in "iuf":
            raise UsageError(f"{where}: an image array of dtype {arr.dtype} is not supported; use uint8, uint16, bool, int or float")
        arr = to_uint8(arr) if normalize else np.clip(arr, 0, 255).astype(np.uint8)
    return pil.fromarray(np.ascontiguousarray(arr))


def to_uint8(arr: Any) -> Any:
    """W&B's rescaling: data in [-1, 1] or [0, 1] stretched to 0..255, then clipped."""
    np = extras.numpy("scaling an image")
    data = arr.astype(np.float64)
    if data.min() < 0:
        span = np.ptp(data)
        data = (data - data.min()) / (span if span else 1.0)
    if data.max() <= 1.0:
        data = data * 255
    return np.clip(data, 0, 255).astype(np.uint8)
