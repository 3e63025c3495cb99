"""``artvcs.Classes``: the id -> name list that masks and boxes of an Image refer to."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras
from artvcs.media.base import Media, Reader, Writer, field
from artvcs.plumbing.errors import UsageError


class Classes(Media):
    """W&B's class set: a list of ``{"id": int, "name": str}``."""

    _log_type = "classes"

    def __init__(self, class_set: Sequence[Mapping[str, Any]]) -> None:
        if isinstance(class_set, (str, bytes, Mapping)) or not isinstance(class_set, Sequence):
            raise UsageError(f"Classes: class_set must be a list of {{'id': int, 'name': str}}, not {class_set!r:.60}")
        seen: set[int] = set()
        self._class_set: list[dict[str, Any]] = []
        for i, c in enumerate(class_set):
            if not isinstance(c, Mapping) or not _is_int(c.get("id")) or not isinstance(c.get("name"), str):
                raise UsageError(f"Classes: class_set[{i}] is {c!r:.60}; each class is {{'id': int, 'name': str}}")
            if int(c["id"]) in seen:
                raise UsageError(f"Classes: class id {c['id']} appears twice")
            seen.add(int(c["id"]))
            self._class_set.append({"id": int(c["id"]), "name": c["name"]})

    @property
    def class_set(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self._class_set]

    @classmethod
    def from_labels(cls, *labels: Mapping[int, str]) -> "Classes":
        """The classes named by masks' and boxes' ``class_labels`` (the first name of an id wins)."""
        merged: dict[int, str] = {}
        for mapping in labels:
            for k, v in mapping.items():
                merged.setdefault(int(k), v)
        return cls([{"id": k, "name": merged[k]} for k in sorted(merged)])

    def _encode(self, out: Writer) -> dict[str, Any]:
        return {"_type": "classes", "class_set": self._class_set}

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Classes":
        return cls(field(doc, "class_set", list, where))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Classes):
            return NotImplemented
        return self._class_set == other._class_set

    def __repr__(self) -> str:
        return f"<Classes {len(self._class_set)} classes>"


def _is_int(v: Any) -> bool:
    """An int (not a bool) or a numpy integer."""
    if isinstance(v, int):
        return not isinstance(v, bool)
    return extras.is_numpy_scalar(v) and v.dtype.kind in "iu"


def check_labels(labels: Any, where: str) -> dict[int, str]:
    """``class_labels`` as ``{int: str}``; UsageError naming ``where`` otherwise."""
    if not isinstance(labels, Mapping):
        raise UsageError(f"{where}: class_labels must be a dict of int ids to names, not {labels!r:.60}")
    out = {}
    for k, v in labels.items():
        if not _is_int(k) or not isinstance(v, str):
            raise UsageError(f"{where}: class_labels entry {k!r}: {v!r} must map an int id to a name")
        out[int(k)] = v
    return out


def labels_to_json(labels: dict[int, str]) -> dict[str, str]:
    """JSON object keys are strings: ``{0: "car"}`` is stored as ``{"0": "car"}``."""
    return {str(k): v for k, v in sorted(labels.items())}


def labels_from_json(doc: Any, where: str) -> dict[int, str]:
    if not isinstance(doc, dict):
        raise MediaFormatError(f"{where!r}: class_labels is {doc!r:.60}, not an object")
    try:
        return {int(k): v for k, v in doc.items()}
    except ValueError:
        raise MediaFormatError(f"{where!r}: class_labels keys must be integer ids, not {list(doc)!r:.60}") from None
