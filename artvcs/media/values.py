"""Python values as JSON, exactly: the cells of a table's untyped columns.

Plain JSON values (null, booleans, integers, finite floats, strings, lists,
dicts with string keys) are stored as themselves, as W&B stores table cells.
Everything else becomes a tagged object ``{"_type": <tag>, ...}`` so it comes
back with the same type: non-finite floats, tuples, bytes, other dicts, numpy
scalars and arrays, datetimes, pandas timestamps, and media objects (an Image
in a cell is its ``image-file`` document). artvcs-media(5) lists the tags.
"""
from __future__ import annotations

import base64
import datetime as _dt
import io
import math
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras
from artvcs.media.base import Media, Reader, Writer
from artvcs.media.columns import float_from_json, float_to_json, numpy_scalar_from_json, numpy_scalar_to_json
from artvcs.plumbing.errors import UsageError

_PLAIN = (str, int, bool, type(None))
def encode_value(v: Any, out: Writer, where: str) -> Any:
    """The JSON form of ``v``; UsageError naming ``where`` if artvcs cannot store it exactly."""
    t = type(v)
    if t in _PLAIN:
        return v
    if t is float:
        return v if math.isfinite(v) else {"_type": "float", "value": float_to_json(v)}
    if t is list:
        return [encode_value(x, out, where) for x in v]
    if t is dict:
        if all(type(k) is str for k in v) and "_type" not in v:
            return {k: encode_value(x, out, where) for k, x in v.items()}
        return {"_type": "dict", "items": [[encode_value(k, out, where), encode_value(x, out, where)] for k, x in v.items()]}
    if t is tuple:
        return {"_type": "tuple", "items": [encode_value(x, out, where) for x in v]}
    if t is bytes:
        return {"_type": "bytes", "base64": base64.b64encode(v).decode("ascii")}
    if isinstance(v, Media):
        return out.inline(v)
    if extras.is_numpy_scalar(v):
        return {"_type": "numpy", "dtype": v.dtype.str, "value": numpy_scalar_to_json(v, where)}
    if extras.is_ndarray(v):
        return {"_type": "ndarray", "npy": base64.b64encode(npy_bytes(v, where)).decode("ascii")}
    pd = extras._loaded("pandas")
    if pd is not None:
        if t is pd.Timestamp:
            return {"_type": "timestamp", "value": v.value, "unit": v.unit, "tz": str(v.tz) if v.tz is not None else None}
        if v is pd.NA or v is pd.NaT:
            return {"_type": "NA" if v is pd.NA else "NaT"}
    if t is _dt.datetime:
        if v.tzinfo is not None and v.utcoffset() is None:
            raise UsageError(f"{where}: datetime {v!r} has a tzinfo without an offset; artvcs stores ISO 8601 times")
        return {"_type": "datetime", "iso": v.isoformat()}
    if t is _dt.date:
        return {"_type": "date", "iso": v.isoformat()}
    raise UsageError(
        f"{where} holds a {t.__module__}.{t.__qualname__} ({v!r:.40}), which artvcs cannot store exactly; "
        "use numbers, strings, lists, dicts, numpy values, datetimes or media objects"
    )


def decode_value(v: Any, src: Reader, where: str) -> Any:
    """The Python value of a JSON value written by :func:`encode_value`."""
    t = type(v)
    if t is list:
        return [decode_value(x, src, where) for x in v]
    if t is not dict:
        return v
    tag = v.get("_type")
    if tag is None:
        return {k: decode_value(x, src, where) for k, x in v.items()}
    decoder = _TAGS.get(tag)
    if decoder is not None:
        try:
            return decoder(v, src, where)
        except (KeyError, TypeError, ValueError) as e:
            raise MediaFormatError(f"{where!r}: bad {tag!r} value {v!r:.80}: {e}") from None
    return src.inline(v, where)


def _decode_dict(v: dict, src: Reader, where: str) -> dict:
    return {decode_value(k, src, where): decode_value(x, src, where) for k, x in v["items"]}


def _decode_numpy(v: dict, src: Reader, where: str) -> Any:
    return numpy_scalar_from_json(v["dtype"], v["value"])


def _decode_ndarray(v: dict, src: Reader, where: str) -> Any:
    return npy_load(base64.b64decode(v["npy"], validate=True), where)


def _decode_timestamp(v: dict, src: Reader, where: str) -> Any:
    pd = extras.pandas("reading a pandas Timestamp")
    ts = pd.Timestamp(v["value"], unit="ns", tz="UTC" if v["tz"] else None)
    return (ts.tz_convert(v["tz"]) if v["tz"] else ts).as_unit(v["unit"])


_TAGS = {
    "float": lambda v, src, where: float_from_json(v["value"]),
    "tuple": lambda v, src, where: tuple(decode_value(x, src, where) for x in v["items"]),
    "dict": _decode_dict,
    "bytes": lambda v, src, where: base64.b64decode(v["base64"], validate=True),
    "numpy": _decode_numpy,
    "ndarray": _decode_ndarray,
    "timestamp": _decode_timestamp,
    "NA": lambda v, src, where: extras.pandas("reading pd.NA").NA,
    "NaT": lambda v, src, where: extras.pandas("reading pd.NaT").NaT,
    "datetime": lambda v, src, where: _dt.datetime.fromisoformat(v["iso"]),
    "date": lambda v, src, where: _dt.date.fromisoformat(v["iso"]),
}


def npy_bytes(arr: Any, where: str) -> bytes:
    """``arr`` in numpy's NPY format 1.0 (no pickles: object arrays are refused)."""
    np = extras.numpy("storing a numpy array")
    if arr.dtype.hasobject:
        raise UsageError(f"{where}: a numpy array of dtype object cannot be stored; use a list, or a numeric dtype")
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), version=(1, 0), allow_pickle=False)
    return buf.getvalue()


def npy_load(data: bytes, where: str) -> Any:
    np = extras.numpy("reading a numpy array")
    try:
        return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        raise MediaFormatError(f"{where!r}: not a valid NPY array: {e}") from None


def same(a: Any, b: Any) -> bool:
    """Content equality with types: NaN equals NaN, arrays compare dtype, shape and values."""
    if a is b:
        return True
    if type(a) is not type(b):
        # numpy 1 has two scalar types for one dtype (ulonglong and uint64): compare dtypes
        return extras.is_numpy_scalar(a) and extras.is_numpy_scalar(b) and a.dtype == b.dtype and _same_scalar(a, b)
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(x, b[k]) for k, x in a.items())
    if extras.is_ndarray(a):
        np = extras.numpy("comparing arrays")
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if extras.is_numpy_scalar(a):
        return a.dtype == b.dtype and _same_scalar(a, b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # pd.NA and friends refuse truth values
        return False


def _same_scalar(a: Any, b: Any) -> bool:
    if a.dtype.kind in "fcmM":
        np = extras.numpy("comparing numbers")
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    return bool(a == b)
