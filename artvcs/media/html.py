"""``artvcs.Html``: an HTML page stored as a UTF-8 ``.html`` part."""
from __future__ import annotations

import os
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media.base import Media, Reader, Writer, field
from artvcs.plumbing.errors import UsageError

#: what ``inject=True`` puts in the head: links open outside the frame that shows the page.
#: (W&B also links its stylesheet from its servers; artvcs works offline and links nothing.)
INJECTED = '<base target="_blank">'


class Html(Media):
    """HTML from a string, a path to an .html file, or a file object."""

    _log_type = "html-file"

    def __init__(self, data: Any, inject: bool = True, data_is_not_path: bool = False) -> None:
        if isinstance(data, os.PathLike) or (isinstance(data, str) and not data_is_not_path and _is_file(data)):
            with open(os.fspath(data), encoding="utf-8") as f:
                self.html = f.read()
        elif isinstance(data, str):
            self.html = data
        elif hasattr(data, "read"):
            if hasattr(data, "seek"):
                data.seek(0)
            text = data.read()
            self.html = text.decode("utf-8") if isinstance(text, bytes) else text
        else:
            raise UsageError(f"Html: data must be an HTML string, a path or a file object, not {type(data).__name__}")
        if not isinstance(self.html, str):
            raise UsageError(f"Html: the file object gave {type(self.html).__name__}, not text")
        if inject:
            self.inject_head()

    def inject_head(self) -> None:
        """Add INJECTED at the start of the page's head (as W&B places its own), once."""
        if INJECTED in self.html:
            return
        lower = self.html.lower()
        if "<head>" in lower:
            i = lower.index("<head>") + len("<head>")
            self.html = self.html[:i] + INJECTED + self.html[i:]
        elif "<html>" in lower:
            i = lower.index("<html>") + len("<html>")
            self.html = self.html[:i] + "<head>" + INJECTED + "</head>" + self.html[i:]
        else:
            self.html = INJECTED + self.html

    def _encode(self, out: Writer) -> dict[str, Any]:
        data = self.html.encode("utf-8")
        return {"_type": "html-file", "path": out.blob("html", data, "html"), "size": len(data)}

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Html":
        raw = src.bytes(field(doc, "path", str, where), where)
        try:
            return cls(raw.decode("utf-8"), inject=False, data_is_not_path=True)
        except UnicodeDecodeError:
            raise MediaFormatError(f"{where!r}: its HTML part is not UTF-8") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Html):
            return NotImplemented
        return self.html == other.html

    def __repr__(self) -> str:
        return f"<Html {len(self.html)} characters>"


def _is_file(text: str) -> bool:
    if "<" in text or "\n" in text or len(text) > 4096:
        return False
    try:
        return os.path.isfile(text)
    except (OSError, ValueError):
        return False
