"""The text listing of a manifest that plumbing commands print and read.

Short form, one record per entry: ``DIGEST TAB SIZE TAB PATH``. Long form:
``DIGEST TAB SIZE TAB REF TAB EXTRA-JSON TAB PATH``. ``-`` stands for an
unknown size or no reference. The path is the last field, so with NUL-
terminated records (``-z``) it may hold any character but NUL.
"""
from __future__ import annotations

import json

from .errors import UsageError
from .manifest import Entry, canonical_json
from .paths import normalize_entry_path


def format_entry(e: Entry, long: bool) -> tuple:
    if long:
        extra = canonical_json(e.extra).decode().strip() if e.extra else "{}"
        return (e.digest, "-" if e.size is None else e.size, e.ref or "-", extra, e.path)
    return (e.digest, "-" if e.size is None else e.size, e.path)


def parse_listing(data: bytes, nul: bool, long: bool) -> list[Entry]:
    """Parse every record or raise naming the first bad one; nothing is half-parsed."""
    sep = b"\0" if nul else b"\n"
    out: list[Entry] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.split(sep), 1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"record {number}: not UTF-8") from None
        fields = text.split("\t", 4 if long else 2)
        want = 5 if long else 3
        if len(fields) != want:
            raise UsageError(
                f"record {number} {text[:60]!r}: expected {want} tab-separated fields "
                + ("(digest, size, ref, extra-json, path)" if long else "(digest, size, path)")
            )
        digest, size_s = fields[0], fields[1]
        ref = extra = None
        if long:
            ref, extra_s = fields[2], fields[3]
            ref = None if ref == "-" else ref
            try:
                extra = json.loads(extra_s)
            except ValueError:
                raise UsageError(f"record {number}: extra {extra_s[:40]!r} is not JSON") from None
            if not isinstance(extra, dict):
                raise UsageError(f"record {number}: extra must be a JSON object")
        if size_s == "-":
            size = None
        elif size_s.isdigit():
            size = int(size_s)
        else:
            raise UsageError(f"record {number}: size {size_s!r} is not a non-negative integer or '-'")
        raw_path = fields[-1]
        try:
            path = normalize_entry_path(raw_path)
        except UsageError as e:
            raise UsageError(f"record {number}: {e}") from None
        if "\\" in raw_path:
            raise UsageError(f"record {number}: invalid entry path {raw_path!r}: backslashes are not allowed")
        if path in seen:
            raise UsageError(f"record {number}: duplicate entry path {path!r}")
        seen.add(path)
        out.append(Entry(path, digest, size, ref, extra or {}))
    return out
