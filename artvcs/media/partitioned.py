"""``artvcs.PartitionedTable``: one table made of the table entries in a folder of the artifact."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media.base import Media, Reader, Writer, field
from artvcs.media.table import Table
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.paths import normalize_entry_path


class PartitionedTable(Media):
    """W&B's partitioned table: the ``*.table.json`` entries directly inside ``parts_path``, in path order.

    Only the folder is stored; the parts are whatever tables the artifact
    holds there, read when first used.
    """

    _log_type = "partitioned-table"

    def __init__(self, parts_path: str) -> None:
        if not isinstance(parts_path, str):
            raise UsageError(f"PartitionedTable: parts_path must be a folder path in the artifact, not {parts_path!r:.40}")
        self.parts_path = normalize_entry_path(parts_path)
        self._part_paths: list[str] = []
        self._load: Callable[[str], Any] | None = None
        self._parts: list[Table] | None = None

    @property
    def part_paths(self) -> list[str]:
        """Entry paths of the parts (empty until read from a logged artifact)."""
        return list(self._part_paths)

    @property
    def parts(self) -> list[Table]:
        """The part tables (read on first use)."""
        if self._parts is None:
            parts = [self._load(p) for p in self._part_paths] if self._load else []
            for p, t in zip(self._part_paths, parts):
                if not isinstance(t, Table):
                    raise MediaFormatError(f"{self.parts_path!r}: part {p!r} is a {type(t).__name__}, not a table")
            self._parts = parts
        return self._parts

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, row)`` over every part in turn, numbered from 0 across parts."""
        n = 0
        for part in self.parts:
            for row in part.data:
                yield n, row
                n += 1

    def _encode(self, out: Writer) -> dict[str, Any]:
        return {"_type": "partitioned-table", "parts_path": self.parts_path}

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "PartitionedTable":
        self = cls(field(doc, "parts_path", str, where))
        self._part_paths = [p for p in src.listdir(self.parts_path) if p.endswith(".table.json")]
        self._load = lambda path: src.object(path, where)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartitionedTable):
            return NotImplemented
        return self.parts_path == other.parts_path

    def __repr__(self) -> str:
        return f"<PartitionedTable {self.parts_path!r}>"
