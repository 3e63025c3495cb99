"""The text ``artvcs status`` prints, made without click (the command and the launcher share it)."""
from __future__ import annotations

from artvcs.porcelain.safetext import one_line
from artvcs.porcelain.text import table_lines

TYPE_CHECKING = False  # typing is not imported: it costs an up-to-date status's start-up
if TYPE_CHECKING:
    from typing import Any

SHOWN = 10  # changed files listed per folder
NOTHING = ("nothing to show: no tracked path here, and no checkout, download or log of a folder below "
           "this one ('artvcs status PATH' asks about one folder)")


def lines(rows: list[dict[str, Any]]) -> list[str]:
    """The table of ``rows`` (:func:`artvcs.git.status.status`), then each folder's changed files."""
    def state(r: dict) -> str:
        n = len(r["changes"])
        return r["state"] + (f" ({n} file{'s' if n != 1 else ''})" if n else "")

    out = table_lines(["path", "version", "state"],
                      [[r["path"], (r["version"] or "-") + (f" ({r['how']})" if r.get("how") else ""), state(r)]
                       for r in rows])
    for r in rows:
        for c in r["changes"][:SHOWN]:
            out.append(one_line(f"  {c['problem']:>10}  {r['path']}{c['path']}"))
        if len(r["changes"]) > SHOWN:
            out.append(f"  {'':>10}  ... and {len(r['changes']) - SHOWN} more")
        if r.get("detail"):
            out.append(one_line(f"  {r['detail']}"))
    return out
