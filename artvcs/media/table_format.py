"""How a Table is stored: W&B's row layout for small tables, one part per column for large ones.

A table of at most ``INLINE_ROWS`` rows is one readable JSON document with
its rows in ``data``, as W&B writes it. A larger one keeps only its shape and
dtypes in the document and puts each column in its own content-addressed
part: an NPY array for a numpy-typed column, a JSON array otherwise. Columns
that do not change between versions are then stored once, and 100,000 rows
load in well under a second. artvcs-media(5) specifies both layouts.
"""
from __future__ import annotations

import json
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import columns as _columns
from artvcs.media import extras
from artvcs.media.base import Media, Reader, Writer, dumps, field
from artvcs.media.values import decode_value, encode_value, npy_bytes, npy_load
from artvcs.plumbing.errors import UsageError

INLINE_ROWS = 1000  # tables with more rows store their columns as parts


def encode(table: Any, out: Writer) -> dict[str, Any]:
    """The ``table`` document of ``table``; column parts (large tables) and cell media go to ``out``."""
    cols, rows, n = table.columns, table.data, len(table.columns)
    for i, row in enumerate(rows):
        if len(row) != n:
            raise UsageError(f"Table row {i} has {len(row)} values for {n} columns {cols}")
    cells = [list(c) for c in zip(*rows)] if rows and n else [[] for _ in cols]
    doc: dict[str, Any] = {
        "_type": "table",
        "columns": cols,
        "ncols": n,
        "nrows": len(rows),
        "column_types": _column_types(cols, table._dtypes, cells),
    }
    if any(table._dtypes):
        doc["dtypes"] = [_descriptor_to_json(d, out, f"Table column {c!r}") for c, d in zip(cols, table._dtypes)]
    wheres = [f"Table column {c!r}" for c in cols]
    if len(rows) <= INLINE_ROWS:
        values = [_values(d, col, out, w) for d, col, w in zip(table._dtypes, cells, wheres)]
        doc["data"] = [list(r) for r in zip(*values)] if n else [[] for _ in rows]
        return doc
    parts = []
    for desc, col, where in zip(table._dtypes, cells, wheres):
        if desc is not None and desc["kind"] in _columns.ARRAY_KINDS:
            arr = _columns.to_array(desc, col, where)
            parts.append({"format": "npy", "path": out.blob("tables", npy_bytes(arr, where), "npy")})
        else:
            parts.append({"format": "json", "path": out.blob("tables", dumps(_values(desc, col, out, where)), "json")})
    doc["column_data"] = parts
    return doc


def _values(desc: dict | None, cells: list, out: Writer, where: str) -> list:
    return _columns.to_json(desc, cells, lambda c: encode_value(c, out, where), where)


def decode(cls: type, doc: dict[str, Any], src: Reader, where: str) -> Any:
    """The Table of a ``table`` document (either layout)."""
    cols = field(doc, "columns", list, where)
    n = len(cols)
    nrows = field(doc, "nrows", int, where, None)
    raw = field(doc, "dtypes", list, where, None) or [None] * n
    if len(raw) != n:
        raise MediaFormatError(f"{where!r}: {len(raw)} dtypes for {n} columns")
    dtypes = [_descriptor_from_json(d, src, where) for d in raw]

    def cell(v: Any) -> Any:
        return decode_value(v, src, where)

    if "column_data" in doc:
        parts = field(doc, "column_data", list, where)
        if len(parts) != n:
            raise MediaFormatError(f"{where!r}: {len(parts)} column parts for {n} columns")
        cells = [_read_column(p, d, src, where, cell) for p, d in zip(parts, dtypes)]
        if nrows is None or any(len(c) != nrows for c in cells):
            raise MediaFormatError(f"{where!r}: its column parts do not all hold nrows={nrows} values")
        rows = [list(r) for r in zip(*cells)] if n else [[] for _ in range(nrows)]
    else:
        data = field(doc, "data", list, where)
        if any(not isinstance(r, list) or len(r) != n for r in data):
            raise MediaFormatError(f"{where!r}: every row of 'data' must be a list of {n} values")
        if nrows is not None and nrows != len(data):
            raise MediaFormatError(f"{where!r}: nrows is {nrows} but 'data' has {len(data)} rows")
        cells = [_columns.from_json(d, list(c), cell) for d, c in zip(dtypes, zip(*data))] if data and n else []
        rows = [list(r) for r in zip(*cells)] if cells else [[] for _ in data]
    table = cls.__new__(cls)
    table.columns, table.data, table._dtypes = list(cols), rows, dtypes
    return table


def _read_column(part: Any, desc: dict | None, src: Reader, where: str, cell: Any) -> list:
    if not isinstance(part, dict):
        raise MediaFormatError(f"{where!r}: column part {part!r:.60} is not an object")
    fmt = part.get("format")
    data = src.bytes(part.get("path"), where)
    if fmt == "npy":
        if desc is None or desc["kind"] not in _columns.ARRAY_KINDS:
            raise MediaFormatError(f"{where!r}: an NPY column part needs a numpy, datetimetz or category dtype")
        return _columns.from_array(desc, npy_load(data, where))
    if fmt == "json":
        values = json.loads(data)
        if not isinstance(values, list):
            raise MediaFormatError(f"{where!r}: column part {part['path']!r} is not a JSON array")
        return _columns.from_json(desc, values, cell)
    raise MediaFormatError(f"{where!r}: column part format {fmt!r} is neither 'npy' nor 'json'")


def _descriptor_to_json(desc: dict | None, out: Writer, where: str) -> dict | None:
    if desc is None or desc["kind"] != "category":
        return desc
    return {**desc, "categories": [encode_value(c, out, where) for c in desc["categories"]]}


def _descriptor_from_json(desc: Any, src: Reader, where: str) -> dict | None:
    desc = _columns.check_descriptor(desc, where)
    if desc is None or desc["kind"] != "category":
        return desc
    return {**desc, "categories": [decode_value(c, src, where) for c in desc["categories"]]}


# -- W&B's column_types (informative: artvcs never reads it back) --------------------------------
_WB_NAMES = {bool: "boolean", int: "number", float: "number", str: "string", type(None): "none",
             list: "list", tuple: "list", dict: "typedDict"}
_KIND_NAMES = {"b": "boolean", "i": "number", "u": "number", "f": "number", "c": "number",
               "m": "number", "M": "timestamp", "U": "string"}


def _wb_name(t: type) -> str:
    if t in _WB_NAMES:
        return _WB_NAMES[t]
    if issubclass(t, Media):
        return t._log_type
    np = extras._loaded("numpy")
    if np is not None and issubclass(t, np.generic):
        return _KIND_NAMES.get(np.dtype(t).kind, "any")
    if np is not None and issubclass(t, np.ndarray):
        return "ndarray"
    return "any"


def _column_types(cols: list, dtypes: list, cells: list) -> dict[str, Any]:
    type_map = {}
    for name, desc, col in zip(cols, dtypes, cells):
        if desc is None or desc["kind"] == "object":
            names = sorted({_wb_name(t) for t in set(map(type, col))})
        elif desc["kind"] == "numpy":
            names = [_KIND_NAMES[extras.numpy("a typed table column").dtype(desc["dtype"]).kind]]
        else:
            names = [{"datetimetz": "timestamp", "string": "string", "category": "any"}.get(desc["kind"], "number")]
        if not names:
            type_map[str(name)] = {"wb_type": "unknown"}
        elif len(names) == 1:
            type_map[str(name)] = {"wb_type": names[0]}
        else:
            type_map[str(name)] = {"wb_type": "union", "params": {"allowed_types": [{"wb_type": t} for t in names]}}
    return {"wb_type": "typedDict", "params": {"type_map": type_map}}
