"""``artvcs.Table``: W&B's table of rows, keeping the dtypes of a DataFrame or numpy array.

``table.columns`` and ``table.data`` (a list of rows) are W&B's. A table made
from a DataFrame or a 2-D numpy array also remembers each column's dtype, so
``get_dataframe()`` after a round trip through an artifact has the same
dtypes, and the cells are what W&B would hold (numpy scalars, ``pd.NA``...).
How a table is stored is in table_format.py and artvcs-media(5).
"""
from __future__ import annotations

import numbers

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from artvcs.media import columns as _columns
from artvcs.media import extras
from artvcs.media.base import Media, Reader, Writer
from artvcs.media.values import same
from artvcs.plumbing.errors import UsageError

DEFAULT_COLUMNS = ["Input", "Output", "Expected"]  # W&B's, for a table made with no columns


class Table(Media):
    """A table of rows: from ``columns`` and ``data`` (rows), ``data`` as a 2-D array or DataFrame, or ``dataframe``."""

    _log_type = "table"

    def __init__(
        self,
        columns: Sequence[str | int] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: bool | list[bool] = True,
        allow_mixed_types: bool = False,
    ) -> None:
        # W&B's typing: a column's type is that of its first value that is not None; later
        # values must have it (unless allow_mixed_types), and None only where optional.
        self._mixed = allow_mixed_types
        self._optional = optional
        self._kinds: list[str | None] = []
        self.data: list[list[Any]] = []
        self._dtypes: list[dict[str, Any] | None] = []
        if dataframe is not None or extras.is_dataframe(data):
            self._init_from_dataframe(dataframe if dataframe is not None else data)
        elif extras.is_ndarray(data):
            self._init_from_ndarray(data, columns)
        else:
            self.columns = _check_columns(DEFAULT_COLUMNS if columns is None else columns)
            self._dtypes = [None] * len(self.columns)
            rows_in = data if data is not None else rows
            if rows_in is not None:
                if isinstance(rows_in, (str, bytes)) or not hasattr(rows_in, "__iter__"):
                    raise UsageError(f"Table: data must be a list of rows, a 2-D numpy array or a DataFrame, not {rows_in!r:.40}")
                for row in rows_in:
                    self.add_data(*row)
        if dtype is not None:
            self._cast(dtype)

    def _init_from_dataframe(self, df: Any) -> None:
        if not extras.is_dataframe(df):
            raise UsageError(f"Table: dataframe must be a pandas DataFrame, not {type(df).__name__}")
        self.columns = _check_columns([c.item() if extras.is_numpy_scalar(c) else c for c in df.columns])
        cells = []
        for i, name in enumerate(self.columns):
            desc, col = _columns.describe_series(df.iloc[:, i], f"Table column {name!r}")
            self._dtypes.append(desc)
            cells.append(col)
        self.data = [list(r) for r in zip(*cells)] if cells else [[] for _ in range(len(df))]

    def _init_from_ndarray(self, arr: Any, columns: Sequence[str | int] | None) -> None:
        if arr.ndim < 2:
            raise UsageError(f"Table: a numpy array of data must be 2-D (rows x columns), not of shape {arr.shape}")
        n = arr.shape[1]
        if columns is None:
            columns = DEFAULT_COLUMNS if n == len(DEFAULT_COLUMNS) else [f"col{i}" for i in range(n)]
        self.columns = _check_columns(columns)
        if len(self.columns) != n:
            raise UsageError(f"Table: {len(self.columns)} columns {self.columns} for an array with {n} columns")
        if arr.ndim == 2:
            self._dtypes = [_columns.describe_numpy(arr.dtype, f"Table column {c!r}") for c in self.columns]
            self.data = [list(r) for r in zip(*(list(arr[:, i]) for i in range(n)))] if n else [[] for _ in arr]
        else:  # each cell is itself an array, as W&B's add_data(*row) makes it
            self._dtypes = [None] * n
            self.data = [list(row) for row in arr]

    def _cast(self, dtype: Any) -> None:
        """Give columns a numpy/pandas dtype (one for all, or a list with None for 'keep')."""
        pd = extras.pandas("Table(dtype=...)")
        dtypes = dtype if isinstance(dtype, list) else [dtype] * len(self.columns)
        if len(dtypes) != len(self.columns):
            raise UsageError(f"Table: {len(dtypes)} dtypes for {len(self.columns)} columns {self.columns}")
        for i, dt in enumerate(dtypes):
            if dt is None:
                continue
            where = f"Table column {self.columns[i]!r}"
            try:
                series = pd.Series([row[i] for row in self.data], dtype=object).astype(dt)
            except (TypeError, ValueError) as e:
                raise UsageError(f"{where}: cannot cast to {dt!r}: {e}") from None
            self._dtypes[i], col = _columns.describe_series(series, where)
            for row, cell in zip(self.data, col):
                row[i] = cell

    # -- W&B's API ---------------------------------------------------------------------------
    def add_data(self, *data: Any) -> None:
        """Append one row; it must have one value per column, each of its column's type
        (see :meth:`_check_types`)."""
        if len(data) != len(self.columns):
            raise UsageError(f"Table.add_data: this table expects {len(self.columns)} values {self.columns}, got {len(data)}")
        self._check_types(data, range(len(self.columns)), "Table.add_data")
        self.data.append(list(data))

    def _check_types(self, values: Sequence[Any], columns: Iterable[int], what: str) -> None:
        """Refuse values of another type than their column's (TableTypeError, a TypeError, as W&B),
        and None in a column that is not optional; nothing is checked with allow_mixed_types, in
        columns that carry a numpy/pandas dtype, or in tables read back from an artifact."""
        if getattr(self, "_mixed", True):
            return
        from artvcs.errors import TableTypeError

        kinds = self._kinds
        kinds.extend([None] * (len(self.columns) - len(kinds)))
        found = list(kinds)
        for value, i in zip(values, columns):
            if self._dtypes[i] is not None:
                continue
            kind = _kind(value)
            if kind == "none":
                if not self._column_optional(i):
                    raise TableTypeError(f"{what}: column {self.columns[i]!r} is not optional, so it cannot hold None")
            elif found[i] is None:
                found[i] = kind
            elif found[i] != kind:
                raise TableTypeError(
                    f"{what}: column {self.columns[i]!r} holds {found[i]} values, not {kind} ({value!r:.40}); "
                    "make the table with allow_mixed_types=True to mix them"
                )
        kinds[:] = found

    def _column_optional(self, i: int) -> bool:
        opt = self._optional
        if isinstance(opt, (list, tuple)):
            return bool(opt[i]) if i < len(opt) else True
        return bool(opt)

    def add_row(self, *row: Any) -> None:
        """Deprecated W&B spelling of add_data."""
        self.add_data(*row)

    def add_column(self, name: str | int, data: Any, optional: bool = False) -> None:
        """Append a column of values (a list, or a 1-D numpy array whose dtype the column keeps)."""
        if not isinstance(name, (str, int)) or isinstance(name, bool) or name in self.columns:
            raise UsageError(f"Table.add_column: {name!r} must be a new column name (a string or int); columns are {self.columns}")
        if extras.is_ndarray(data):
            desc = _columns.describe_numpy(data.dtype, f"Table column {name!r}") if data.ndim == 1 else None
            values = list(data)
        elif isinstance(data, list):
            desc, values = None, data
        else:
            raise UsageError(f"Table.add_column: data must be a list or a numpy array, not {type(data).__name__}")
        if self.columns and len(values) != len(self.data):
            raise UsageError(f"Table.add_column: {len(values)} values for a table of {len(self.data)} rows")
        if not self.columns:
            self.data = [[] for _ in values]
        self.columns.append(name)
        self._dtypes.append(desc)
        if not getattr(self, "_mixed", True):
            if isinstance(self._optional, (list, tuple)):
                self._optional = [*self._optional, *[True] * (len(self.columns) - 1 - len(self._optional)), optional]
            else:
                self._optional = [self._optional] * (len(self.columns) - 1) + [optional]
            try:
                for v in values:
                    self._check_types([v], [len(self.columns) - 1], "Table.add_column")
            except Exception:
                self.columns.pop()
                self._dtypes.pop()
                self._optional.pop()
                del self._kinds[len(self.columns):]
                raise
        for row, v in zip(self.data, values):
            row.append(v)

    def get_column(self, name: str | int, convert_to: str | None = None) -> Any:
        """The values of one column: a list, or a numpy array with ``convert_to="numpy"``."""
        if name not in self.columns:
            raise UsageError(f"Table.get_column: no column {name!r}; columns are {self.columns}")
        i = self.columns.index(name)
        values = [row[i] for row in self.data]
        if convert_to is None:
            return values
        if convert_to != "numpy":
            raise UsageError(f"Table.get_column: convert_to must be None or 'numpy', not {convert_to!r}")
        np = extras.numpy("Table.get_column(convert_to='numpy')")
        desc = self._dtypes[i]
        if desc is not None and desc["kind"] in ("numpy", "datetimetz"):
            return _columns.to_array(desc, values, f"Table column {name!r}")
        return np.array(values)

    def get_index(self) -> list[int]:
        """Row numbers, 0 to nrows - 1."""
        return list(range(len(self.data)))

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, row)`` for every row."""
        yield from enumerate(self.data)

    def get_dataframe(self) -> Any:
        """A pandas DataFrame of the table, with the dtypes it was made with (inferred for untyped columns)."""
        pd = extras.pandas("Table.get_dataframe")
        series = [_columns.to_series(self._dtypes[i], [row[i] for row in self.data]) for i in range(len(self.columns))]
        if not series:
            return pd.DataFrame(index=range(len(self.data)))
        df = pd.concat(series, axis=1, ignore_index=True)
        df.columns = list(self.columns)
        return df

    @property
    def dtypes(self) -> list[dict[str, Any] | None]:
        """Each column's stored dtype (artvcs-media(5) descriptors); None for an untyped column."""
        return [dict(d) if d else None for d in self._dtypes]

    @property
    def ncols(self) -> int:
        return len(self.columns)

    @property
    def nrows(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        if self.columns != other.columns or self._dtypes != other._dtypes or len(self.data) != len(other.data):
            return False
        if any(len(r) != len(self.columns) for r in self.data) or any(len(r) != len(self.columns) for r in other.data):
            return self.data == other.data
        for i, desc in enumerate(self._dtypes):
            mine, theirs = [r[i] for r in self.data], [r[i] for r in other.data]
            if desc is not None and desc["kind"] != "object":
                # a typed column is equal when it stores the same values: 3 and np.int64(3) in an int64 column
                try:
                    if _columns.to_json(desc, mine, None, "") != _columns.to_json(desc, theirs, None, ""):
                        return False
                    continue
                except UsageError:
                    pass
            if not all(same(x, y) for x, y in zip(mine, theirs)):
                return False
        return True

    def __repr__(self) -> str:
        return f"<Table {len(self.data)} rows x {len(self.columns)} columns {self.columns!r:.80}>"

    # -- storage --------------------------------------------------------------------------------
    def _encode(self, out: Writer) -> dict[str, Any]:
        from artvcs.media import table_format

        return table_format.encode(self, out)

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Table":
        from artvcs.media import table_format

        return table_format.decode(cls, doc, src, where)


def _check_columns(columns: Any) -> list[str | int]:
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
        raise UsageError(f"Table: columns must be a list of names, not {columns!r:.60}")
    cols = list(columns)
    for c in cols:
        if not isinstance(c, (str, int)) or isinstance(c, bool):
            raise UsageError(f"Table: column name {c!r} must be a string or an int")
    if len(set(cols)) != len(cols):
        dup = next(c for c in cols if cols.count(c) > 1)
        raise UsageError(f"Table: column {dup!r} appears twice in {cols}")
    return cols


def _kind(value: Any) -> str:
    """The W&B-like type of a cell: none, bool, number, str, list, dict, or the class of a media object."""
    name = type(value).__name__
    if value is None or name in ("NAType", "NaTType"):
        return "none"
    if isinstance(value, bool) or name == "bool_":
        return "bool"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, Media):
        return name
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return name
