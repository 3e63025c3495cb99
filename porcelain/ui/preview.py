"""What a file looks like in a page: its kind from its name and first bytes, and a bounded head of it.

Kinds: ``media`` (an artvcs media object: Table, Image...), ``image``, ``audio``, ``video``, ``html``
(shown in a sandboxed frame, never run), ``json``, ``csv``, ``text``, ``binary``. Only the first
``HEAD`` bytes are read for text, so a 10 GB log previews as fast as a small one.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

HEAD = 256 * 1024
CSV_ROWS = 100
JSON_MAX = 4 * 1024 * 1024
# Served inline only with these types (anything else is a download): none of them can run script.
INLINE_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".bmp": "image/bmp", ".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac",
    ".mp4": "video/mp4", ".webm": "video/webm",
}
TEXT_EXT = {".txt", ".md", ".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".log", ".sh", ".rst", ".xml", ".svg",
            ".c", ".h", ".js", ".ts", ".css", ".ipynb", ".jsonl", ".ndjson", ".r", ".sql"}


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def kind_of(path: str) -> str:
    import artvcs.media  # noqa: F401  (registers every media kind)

    """The preview kind a file's name suggests (text/binary is settled by its bytes)."""
    from artvcs.media.base import REGISTRY  # filled by importing artvcs.media (no optional library)

    if path.endswith(".json") and any(path.endswith(f".{k}.json") for k in REGISTRY):
        return "media"
    ext = extension(path)
    mime = INLINE_TYPES.get(ext, "")
    if mime:
        return mime.split("/")[0]
    if ext in (".html", ".htm"):
        return "html"
    if ext == ".json":
        return "json"
    if ext in (".csv", ".tsv"):
        return "csv"
    return "text"


@dataclass
class Preview:
    kind: str
    text: str | None = None
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    note: str | None = None


def _decode(head: bytes) -> str | None:
    if b"\x00" in head[:8192]:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 4:  # a character cut at the end of the head
            return head[: e.start].decode("utf-8", "replace")
        return None


def preview(path: str, head: bytes, size: int | None) -> Preview:
    """The preview of a file whose first bytes are ``head`` (at most HEAD + 1 of them)."""
    kind = kind_of(path)
    if kind in ("image", "audio", "video", "html", "media"):
        return Preview(kind)
    truncated = len(head) > HEAD
    head = head[:HEAD]
    text = _decode(head)
    if text is None:
        return Preview("binary")
    if kind == "json" and not truncated and len(head) <= JSON_MAX:
        try:
            return Preview("json", json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=False))
        except ValueError as e:
            return Preview("text", text, note=f"not valid JSON ({e}); shown as text")
    if kind == "csv":
        dialect = "excel-tab" if extension(path) == ".tsv" else "excel"
        lines = text.splitlines()
        if truncated and lines:
            lines = lines[:-1]  # the last line may be cut
        try:
            rows = [r for _, r in zip(range(CSV_ROWS + 1), csv.reader(io.StringIO("\n".join(lines)), dialect))]
        except csv.Error as e:
            return Preview("text", text, truncated, f"not readable as CSV ({e}); shown as text")
        return Preview("csv", rows=rows[:CSV_ROWS + 1], truncated=truncated or len(rows) > CSV_ROWS)
    return Preview("text", text, truncated)


def table_cell(value: Any) -> str:
    """A table cell as text: media objects by their kind (their repr), other values as JSON would show them."""
    from artvcs.media.base import Media

    if isinstance(value, Media):
        return repr(value)
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
