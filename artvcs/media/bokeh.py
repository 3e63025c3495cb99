"""``artvcs.Bokeh``: a Bokeh document stored as its JSON, so reading it back needs no bokeh package."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras
from artvcs.media.base import Media, Reader, Writer, dumps, field
from artvcs.plumbing.errors import UsageError


class Bokeh(Media):
    """A Bokeh figure (any bokeh Model), its document JSON as a dict, or the path of a .json file of it."""

    _log_type = "bokeh-file"

    def __init__(self, data_or_path: Any) -> None:
        if isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            try:
                with open(path, encoding="utf-8") as f:
                    doc = json.load(f)
            except (OSError, ValueError) as e:
                raise UsageError(f"Bokeh: cannot read {path!r} as Bokeh JSON: {e}") from None
        elif isinstance(data_or_path, Mapping):
            doc = data_or_path
        elif type(data_or_path).__module__.split(".")[0] == "bokeh":
            document = extras.require("bokeh.document", "Bokeh from a figure").Document()
            document.add_root(data_or_path)
            try:  # bokeh 3.x wraps the document in a Serialized unless asked for plain JSON (deferred=False)
                doc = document.to_json(deferred=False)
            except TypeError:  # a bokeh without that keyword returns plain JSON
                doc = document.to_json()
        else:
            raise UsageError(f"Bokeh: data_or_path must be a Bokeh figure, its JSON dict or a path, not {type(data_or_path).__name__}")
        try:
            self.b_json: dict[str, Any] = json.loads(dumps(doc))  # W&B's attribute name
        except (TypeError, ValueError) as e:
            raise UsageError(f"Bokeh: the document is not plain JSON: {e}") from None
        if not isinstance(self.b_json, dict) or "roots" not in self.b_json:
            raise UsageError("Bokeh: a Bokeh document JSON has 'roots'; this dict has none")

    def _encode(self, out: Writer) -> dict[str, Any]:
        data = dumps(self.b_json)
        return {"_type": "bokeh-file", "path": out.blob("bokeh", data, "bokeh.json"), "size": len(data)}

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Bokeh":
        try:
            b_json = json.loads(src.bytes(field(doc, "path", str, where), where))
        except ValueError as e:
            raise MediaFormatError(f"{where!r}: its Bokeh part is not JSON: {e}") from None
        return cls(b_json)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bokeh):
            return NotImplemented
        return self.b_json == other.b_json

    def __repr__(self) -> str:
        return f"<Bokeh {len(self.b_json.get('roots') or [])} roots>"
