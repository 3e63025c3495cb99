"""``artvcs.JoinedTable``: two tables and the key they join on, stored as references to table entries."""
from __future__ import annotations

from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media.base import Media, Reader, Writer, field
from artvcs.media.table import Table
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.paths import normalize_entry_path

_SUFFIX = ".table.json"


class JoinedTable(Media):
    """W&B's join of ``table1`` and ``table2`` on ``join_key`` (one column name, or [left, right]).

    A table may be a Table, stored beside the join, or the entry path of a
    table in the same artifact (``"train"`` or ``"train.table.json"``).
    """

    _log_type = "joined-table"

    def __init__(self, table1: Table | str, table2: Table | str, join_key: str | list[str]) -> None:
        self._table1 = _check_table(table1, "table1")
        self._table2 = _check_table(table2, "table2")
        ok_list = isinstance(join_key, (list, tuple)) and len(join_key) == 2 and all(isinstance(k, str) for k in join_key)
        if not isinstance(join_key, str) and not ok_list:
            raise UsageError(f"JoinedTable: join_key must be a column name or [left, right] names, not {join_key!r:.60}")
        self._join_key = join_key if isinstance(join_key, str) else list(join_key)
        for t, i in ((self._table1, 0), (self._table2, 1)):
            key = self._join_key if isinstance(self._join_key, str) else self._join_key[i]
            if isinstance(t, Table) and key not in t.columns:
                raise UsageError(f"JoinedTable: table{i + 1} has no column {key!r} to join on; its columns are {t.columns}")

    @property
    def table1(self) -> Table | str:
        return self._table1

    @property
    def table2(self) -> Table | str:
        return self._table2

    @property
    def join_key(self) -> str | list[str]:
        return self._join_key

    def _encode(self, out: Writer) -> dict[str, Any]:
        refs = [t if isinstance(t, str) else out.child(t, "tables")[0] for t in (self._table1, self._table2)]
        return {"_type": "joined-table", "table1": refs[0], "table2": refs[1], "join_key": self._join_key}

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "JoinedTable":
        tables = []
        for key in ("table1", "table2"):
            path = field(doc, key, str, where)
            table = src.object(path, where)
            if not isinstance(table, Table):
                raise MediaFormatError(f"{where!r}: {key} {path!r} is a {type(table).__name__}, not a table")
            table._entry_path = path
            tables.append(table)
        join_key = field(doc, "join_key", (str, list), where)
        self = cls.__new__(cls)
        self._table1, self._table2, self._join_key = tables[0], tables[1], join_key
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JoinedTable):
            return NotImplemented
        return (
            self._join_key == other._join_key
            and _same_table(self._table1, other._table1)
            and _same_table(self._table2, other._table2)
        )

    def __repr__(self) -> str:
        return f"<JoinedTable on {self._join_key!r}>"


def _check_table(t: Any, which: str) -> Table | str:
    if isinstance(t, Table):
        return t
    if isinstance(t, str):
        path = normalize_entry_path(t)
        return path if path.endswith(_SUFFIX) else path + _SUFFIX
    raise UsageError(f"JoinedTable: {which} must be a Table or the path of a table in the artifact, not {type(t).__name__}")


def _same_table(a: Table | str, b: Table | str) -> bool:
    """Tables compare by content; a path compares with the path a decoded table was read from."""
    if isinstance(a, Table) and isinstance(b, Table):
        return a == b
    pa = a if isinstance(a, str) else getattr(a, "_entry_path", None)
    pb = b if isinstance(b, str) else getattr(b, "_entry_path", None)
    return pa is not None and pa == pb
