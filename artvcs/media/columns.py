"""Typed table columns: how a column with a numpy or pandas dtype is stored and rebuilt exactly.

A column of a table made from a DataFrame or a numpy array keeps its dtype
in a *descriptor* (``{"kind": ..., "dtype": ...}``, see artvcs-media(5)); its
cells are what W&B puts in ``table.data`` (``series.values[i]``: numpy scalars,
strings, ``pd.NA``...). Each kind converts a column of cells to a list of JSON
values, and the numpy-backed kinds also to an array for a binary NPY part.
"""
from __future__ import annotations

import math
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras
from artvcs.plumbing.errors import UsageError

NUMPY_KINDS = "biufcmMU"  # numpy dtype kinds a typed column may have
MASKED = {f"{p}Int{n}" for p in ("", "U") for n in (8, 16, 32, 64)} | {"Float32", "Float64", "boolean"}
ARRAY_KINDS = ("numpy", "datetimetz", "category")  # kinds stored as one NPY array in the columnar layout

Descriptor = dict[str, Any]


# -- floats as JSON (cells of typed and untyped columns alike; values.py uses them) ------
_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def float_to_json(x: float) -> float | str:
    """A float as JSON: itself, or "NaN"/"Infinity"/"-Infinity" (JSON has no such numbers)."""
    if math.isfinite(x):
        return x
    return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")


def float_from_json(v: Any) -> float:
    return _FLOATS[v] if isinstance(v, str) else float(v)


# -- numpy scalars and arrays as JSON -------------------------------------------------
def _array_to_json(arr: Any) -> list:
    k = arr.dtype.kind
    if k in "mM":
        nat = arr != arr
        return [None if n else v for v, n in zip(arr.view("<i8").tolist(), nat.tolist())]
    if k == "f":
        return [float_to_json(x) for x in arr.tolist()]
    if k == "c":
        return [[float_to_json(x.real), float_to_json(x.imag)] for x in arr.tolist()]
    return arr.tolist()


def _array_from_json(values: list, dtype: Any) -> Any:
    np = extras.numpy("reading a typed table column")
    k = dtype.kind
    if k in "mM":
        ints = np.array([v if v is not None else np.iinfo(np.int64).min for v in values], dtype="<i8")
        return ints.view(dtype.newbyteorder("<")).astype(dtype)
    if k == "f":
        return np.array([float_from_json(v) for v in values], dtype=dtype)
    if k == "c":
        return np.array([complex(float_from_json(r), float_from_json(i)) for r, i in values], dtype=dtype)
    return np.array(values, dtype=dtype)


def numpy_scalar_to_json(v: Any, where: str) -> Any:
    """A numpy scalar's value as JSON (its dtype is stored beside it)."""
    np = extras.numpy("storing a numpy value")
    if v.dtype.kind not in NUMPY_KINDS:
        raise UsageError(f"{where}: numpy values of dtype {v.dtype} cannot be stored; use one of kinds {NUMPY_KINDS}")
    return _array_to_json(np.asarray(v).reshape(1))[0]


def numpy_scalar_from_json(dtype: str, value: Any) -> Any:
    np = extras.numpy("reading a numpy value")
    return _array_from_json([value], np.dtype(dtype))[0]


# -- descriptors ----------------------------------------------------------------------------
def describe_numpy(dtype: Any, where: str) -> Descriptor:
    """The descriptor of a column backed by a numpy array of ``dtype``."""
    if dtype.kind == "O":
        return {"kind": "object"}
    if dtype.kind not in NUMPY_KINDS:
        raise UsageError(f"{where} has numpy dtype {dtype}, which artvcs cannot store; use a numeric, bool, datetime or str dtype")
    return {"kind": "numpy", "dtype": dtype.str}


def describe_series(series: Any, where: str) -> tuple[Descriptor, list]:
    """The descriptor and the cells (``series.values[i]``, as W&B takes them) of a pandas column."""
    pd = extras.pandas("a Table from a DataFrame")
    dtype = series.dtype
    name = str(dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        values = series.dt.tz_convert(None).to_numpy()  # naive UTC datetime64
        return {"kind": "datetimetz", "dtype": name, "storage": values.dtype.str}, list(values)
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        return {"kind": "category", "ordered": bool(dtype.ordered), "categories_dtype": str(cats.dtype),
                "categories": list(cats), "codes": series.cat.codes.dtype.str}, list(series.values)
    if isinstance(dtype, pd.StringDtype):
        return {"kind": "string", "dtype": name}, _string_cells(series.array)
    if name in MASKED:
        return {"kind": "masked", "dtype": name}, list(series.values)
    if not isinstance(dtype, extras.numpy("a Table from a DataFrame").dtype):
        raise UsageError(f"{where} has dtype {name!r}, which artvcs cannot store exactly; convert it first, e.g. .astype(object)")
    return describe_numpy(dtype, where), list(series.values)


def check_descriptor(desc: Any, where: str) -> Descriptor | None:
    """A stored descriptor, checked enough that decoding cannot go astray."""
    if desc is None:
        return None
    if not isinstance(desc, dict) or desc.get("kind") not in ("numpy", "object", "string", "masked", "datetimetz", "category"):
        raise MediaFormatError(f"{where!r}: {desc!r:.80} is not a column descriptor")
    return desc


def _np_dtype(desc: Descriptor, key: str = "dtype") -> Any:
    np = extras.numpy("a typed table column")
    return np.dtype(desc[key])


# -- cells <-> stored forms ----------------------------------------------------------------
def to_array(desc: Descriptor, cells: list, where: str) -> Any:
    """The NPY array of a column of an ARRAY_KINDS kind."""
    np = extras.numpy("a typed table column")
    kind = desc["kind"]
    try:
        if kind in ("numpy", "datetimetz"):
            dtype = _np_dtype(desc, "dtype" if kind == "numpy" else "storage")
            arr = np.asarray(cells, dtype=dtype) if cells else np.empty(0, dtype=dtype)
            _check_exact(arr, cells, where)
            return arr
        codes = np.asarray(_categories(desc).get_indexer(cells)) if cells else np.empty(0, dtype=np.intp)
    except (TypeError, ValueError, OverflowError) as e:
        raise UsageError(f"{where}: its cells no longer fit its dtype {desc.get('dtype', kind)!r}: {e}") from None
    lost = [c for c, code in zip(cells, codes.tolist()) if code < 0 and not _is_na(c)]
    if lost:
        raise UsageError(f"{where}: {lost[0]!r} is not one of the column's categories; add it to the categories first")
    return codes.astype(_np_dtype(desc, "codes"))


def _check_exact(arr: Any, cells: list, where: str) -> None:
    """Refuse a cell that the column's dtype would change (1.5 in an int column, a long string in <U3)."""
    scalar = arr.dtype.type
    for i, c in enumerate(cells):
        if type(c) is not scalar and not _equal(arr[i], c):
            raise UsageError(f"{where}: row {i} holds {c!r:.40}, which dtype {arr.dtype} would store as {arr[i]!r:.40}")


def _equal(stored: Any, given: Any) -> bool:
    try:
        return bool(stored == given) or (_is_na(given) and stored != stored)
    except (TypeError, ValueError):
        return False


def from_array(desc: Descriptor, arr: Any) -> list:
    """The cells of a column stored as one array."""
    if desc["kind"] == "category":
        pd = extras.pandas("a categorical column")
        return list(pd.Categorical.from_codes(arr.astype("int64"), categories=_categories(desc), ordered=desc["ordered"]))
    return list(arr)


def to_json(desc: Descriptor | None, cells: list, encode_cell: Any, where: str) -> list:
    """A column's cells as a list of JSON values (untyped and object columns through ``encode_cell``)."""
    kind = desc["kind"] if desc else None
    if kind is None or kind == "object":
        return [encode_cell(c) for c in cells]
    if kind in ARRAY_KINDS:
        return _array_to_json(to_array(desc, cells, where))
    if kind == "string":
        out = []
        for c in cells:
            if type(c) is str:
                out.append(c)
            elif _is_na(c):
                out.append(None)
            else:
                raise UsageError(f"{where}: {c!r:.40} is not a string, and the column's dtype is {desc['dtype']!r}")
        return out
    dtype = desc["dtype"]
    convert = float if dtype.startswith("Float") else (bool if dtype == "boolean" else int)
    out: list = []
    for i, c in enumerate(cells):
        if _is_na(c):
            out.append(None)
            continue
        try:
            v = convert(c)
        except (TypeError, ValueError) as e:
            raise UsageError(f"{where}: row {i} holds {c!r:.40}, which does not fit dtype {dtype!r}: {e}") from None
        if not _equal(v, c):
            raise UsageError(f"{where}: row {i} holds {c!r:.40}, which dtype {dtype!r} would store as {v!r}")
        out.append(float_to_json(v) if convert is float else v)
    return out


def from_json(desc: Descriptor | None, values: list, decode_cell: Any) -> list:
    """The cells of a column stored as a list of JSON values."""
    kind = desc["kind"] if desc else None
    if kind is None or kind == "object":
        if any(type(v) in (list, dict) for v in values):
            return [decode_cell(v) for v in values]
        return list(values)
    if kind == "numpy":
        return list(_array_from_json(values, _np_dtype(desc)))
    if kind == "datetimetz":
        return list(_array_from_json(values, _np_dtype(desc, "storage")))
    if kind == "category":
        return from_array(desc, _array_from_json(values, _np_dtype(desc, "codes")))
    pd = extras.pandas(f"reading a {desc['dtype']} column")
    if kind == "string":
        return _string_cells(pd.array(values, dtype=desc["dtype"]))
    if kind == "masked" and desc["dtype"].startswith("Float"):
        values = [None if v is None else float_from_json(v) for v in values]
    return list(pd.array(values, dtype=desc["dtype"]))


def to_series(desc: Descriptor | None, cells: list) -> Any:
    """The pandas Series of a column, with its dtype (inferred for untyped columns, as W&B does)."""
    pd = extras.pandas("Table.get_dataframe")
    kind = desc["kind"] if desc else None
    if kind is None:
        return pd.Series(cells) if cells else pd.Series([], dtype=object)
    if kind == "object":
        return pd.Series(cells, dtype=object)
    if kind == "numpy":
        return pd.Series(to_array(desc, cells, "column"))
    if kind == "datetimetz":
        tz = pd.api.types.pandas_dtype(desc["dtype"]).tz
        return pd.Series(pd.DatetimeIndex(to_array(desc, cells, "column")).tz_localize("UTC").tz_convert(tz))
    if kind == "category":
        codes = to_array(desc, cells, "column")
        return pd.Series(pd.Categorical.from_codes(codes.astype("int64"), categories=_categories(desc), ordered=desc["ordered"]))
    return pd.Series(pd.array(cells, dtype=desc["dtype"]))


def _string_cells(arr: Any) -> list:
    """The cells of a pandas string array (str, and its NA value), as iterating it gives them but at C speed."""
    return list(extras.numpy("a string column").asarray(arr, dtype=object))


def _categories(desc: Descriptor) -> Any:
    pd = extras.pandas("a categorical column")
    return pd.Index(desc["categories"], dtype=desc["categories_dtype"])


def _is_na(v: Any) -> bool:
    """None, NaN or pd.NA: what pandas shows as a missing value."""
    return v is None or (isinstance(v, float) and v != v) or type(v).__name__ == "NAType"
