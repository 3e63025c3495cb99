"""The text listing of a manifest that plumbing commands print and read.

Short form, one record per entry: ``DIGEST TAB SIZE TAB PATH``. Long form:
``DIGEST TAB SIZE TAB REF TAB EXTRA-JSON TAB PATH``. ``-`` stands for an
unknown size or no reference. Entry paths never hold a tab or any other
control character, so the number of fields tells the two forms apart and a
reader may accept both in one listing. NUL-terminated records (``-z``) let
paths with spaces, quotes or any non-ASCII character pass through
``xargs -0`` and the like untouched.
"""
from __future__ import annotations

import json

from .errors import UsageError
from .manifest import Entry, canonical_json
from .paths import check_entry_path, normalize_entry_path


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def format_entry(e: Entry, long: bool) -> tuple:
    if long:
        extra = canonical_json(e.extra).decode().strip() if e.extra else "{}"
        return (e.digest, "-" if e.size is None else e.size, e.ref or "-", extra, e.path)
    return (e.digest, "-" if e.size is None else e.size, e.path)


def parse_listing(data: bytes, nul: bool, long: bool | None = None) -> list[Entry]:
    """Parse every record or raise naming the first bad one; nothing is half-parsed.

    ``long`` True requires the long form, False the short one, None accepts
    either per record (told apart by the number of fields).
    """
    sep = b"\0" if nul else b"\n"
    out: list[Entry] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.split(sep), 1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"record {number} {raw[:60]!r}: not UTF-8") from None
        fields = text.split("\t")
        wanted = {True: (5,), False: (3,), None: (3, 5)}[long]
        if len(fields) not in wanted:
            forms = {3: "3 tab-separated fields (digest, size, path)", 5: "5 (digest, size, ref, extra-json, path)"}
            raise UsageError(
                f"record {number} {text[:60]!r}: has {len(fields)} fields; expected "
                + " or ".join(forms[w] for w in wanted)
                + " (a path may not hold a tab)"
            )
        digest, size_s = fields[0], fields[1]
        ref = extra = None
        if len(fields) == 5:
            ref, extra_s = fields[2], fields[3]
            ref = None if ref == "-" else ref
            try:
                extra = json.loads(extra_s, parse_constant=_no_constant)
            except ValueError:
                raise UsageError(f"record {number}: extra {extra_s[:40]!r} is not JSON") from None
            if not isinstance(extra, dict):
                raise UsageError(f"record {number}: extra must be a JSON object")
        if size_s == "-":
            size = None
        elif size_s.isascii() and size_s.isdigit():
            size = int(size_s)
        else:
            raise UsageError(f"record {number}: size {size_s!r} is not a non-negative integer or '-'")
        raw_path = fields[-1]
        if "\\" in raw_path:
            raise UsageError(f"record {number}: invalid entry path {raw_path!r}: backslashes are not allowed")
        try:
            path = check_entry_path(normalize_entry_path(raw_path))
        except UsageError as e:
            raise UsageError(f"record {number}: {e}") from None
        if path in seen:
            raise UsageError(f"record {number}: duplicate entry path {path!r}")
        seen.add(path)
        out.append(Entry(path, digest, size, ref, extra or {}))
    return out
