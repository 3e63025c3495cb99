"""Chunk lists: the ordered chunks that make up one large stored file.

A chunk list is named by the digest of the file it rebuilds (so equal files
share it) and holds, in canonical text, that digest, the file's size and one
line per chunk::

    artvcs-chunks 1 <file digest> <size> <count>\\n
    <chunk digest> <chunk size>\\n          (count lines)

Lists come from remotes too, so :func:`parse` trusts nothing: the length of
the text is checked against the count before any line is split, every number
is bounded, the sizes must add up, and no chunk may be the file itself.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .errors import CorruptObjectError
from .native import fresh

try:
    from . import _chunkrows
except ImportError:  # built without a compiler: canonical_rows and ChunkPlaces' Python do the same
    _chunkrows = None
_chunkrows = fresh(_chunkrows)  # a build its source has moved past is not used (plumbing/native.py)
_native_rows = getattr(_chunkrows, "rows", None)
_native_places = getattr(_chunkrows, "places", None)

LISTS = "chunklists"  # where lists live, beside the content store's root (chunkstore, store)
MAGIC = "artvcs-chunks"
VERSION = 1
MAX_CHUNK = 16 * 1024 * 1024  # no chunker of ours cuts larger; a list naming one is refused
MAX_COUNT = 1 << 24  # 16 Mi chunks: far beyond any file this format is meant for
_HEADER = re.compile(r"artvcs-chunks 1 ([0-9a-f]{64}) (0|[1-9][0-9]{0,15}) ([1-9][0-9]{0,8})\n")
_ROW = re.compile(r"([0-9a-f]{64}) ([1-9][0-9]{0,8})\n")
_ROW_MAX = 64 + 1 + 9 + 1
_ROW_MIN = 64 + 1 + 1 + 1


@dataclass(frozen=True)
class ChunkList:
    """The file ``digest`` of ``size`` bytes is the concatenation of ``chunks`` (digest, size)."""

    digest: str
    size: int
    chunks: tuple[tuple[str, int], ...]

    def encode(self) -> bytes:
        head = f"{MAGIC} {VERSION} {self.digest} {self.size} {len(self.chunks)}\n"
        return (head + "".join(f"{d} {n}\n" for d, n in self.chunks)).encode("ascii")

    def offsets(self) -> list[int]:
        """The offset of each chunk in the file."""
        out, off = [], 0
        for _, n in self.chunks:
            out.append(off)
            off += n
        return out


def max_encoded_size(file_size: int) -> int:
    """An upper bound on the bytes of a well-formed list for a file of ``file_size`` bytes
    (every chunk at least one byte): what a reader may accept before parsing."""
    return 128 + min(file_size, MAX_COUNT) * _ROW_MAX


_HEX = b"0123456789abcdef"


def canonical_rows(body: str, count: int) -> tuple[list[str], list[int]] | None:
    """The digests and sizes of ``body`` when it is exactly ``count`` canonical rows
    ``<64 hex> <size>\\n`` (size 1-9 digits, no leading zero), else None: the fast path of the
    parsers of lists and pack indexes, checked with whole-string operations in C instead of a
    match per row (a 1 GiB file has ~27,000 rows); on None the caller walks the rows to name the bad one.
    """
    raw = body.encode("ascii")
    if raw.translate(None, _HEX) != b" \n" * count:  # alternating "<hex> <hex>\n", count lines
        return None
    fields = body.split()
    if len(fields) != 2 * count:  # an empty field: the separators are single, so one went missing
        return None
    digests, sizes = fields[0::2], fields[1::2]
    if count and set(map(len, digests)) != {64}:
        return None
    if count and (not "".join(sizes).isdigit() or max(map(len, sizes)) > 9 or min(sizes)[0] == "0"):
        return None
    return digests, list(map(int, sizes))


def native() -> bool:
    """Whether the C row parser (``_chunkrows``, from _native/chunkrows.c) is there and not turned
    off (ARTVCS_NATIVE=0)."""
    return _native_rows is not None and os.environ.get("ARTVCS_NATIVE", "1") != "0"


def rows_python(data: bytes, start: int, count: int, max_size: int,
                exclude: str | None = None) -> tuple[list[tuple[str, int]], int] | None:
    """``([(digest, size), ...], total)`` when ``data[start:]`` is exactly ``count`` canonical rows
    (:func:`canonical_rows`), none larger than ``max_size`` and none naming ``exclude``; else None.
    The loop of ``_chunkrows.rows`` in Python: the fallback, and what tests compare it with."""
    body = data[start:]
    if not body.isascii():
        return None
    fast = canonical_rows(body.decode("ascii"), count)
    if fast is None:
        return None
    digests, sizes = fast
    if count and max(sizes) > max_size or exclude is not None and exclude in digests:
        return None
    return list(zip(digests, sizes)), sum(sizes)


def fast_rows(data: bytes, start: int, count: int, max_size: int,
              exclude: str | None = None) -> tuple[list[tuple[str, int]], int] | None:
    """:func:`rows_python`'s answer, in C where it is built (one pass, no intermediate strings:
    ~27,000 rows per GiB of a chunked file, its list and its packs' indexes, on every checkout)."""
    if native():
        return _native_rows(data, start, count, max_size, exclude)
    return rows_python(data, start, count, max_size, exclude)


def ascii_header(data: bytes, header: "re.Pattern[str]", what: str, form: str) -> tuple[str, "re.Match[str]"]:
    """The text of ``data`` and the match of ``header`` at its start; else a CorruptObjectError
    saying ``what`` must begin with ``form``. Shared by the parsers of stored text formats."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise CorruptObjectError(f"{what} is not ASCII text: refused") from None
    head = header.match(text)
    if head is None:
        raise CorruptObjectError(f"{what} does not begin with '{form}': refused")
    return text, head


def parse(data: bytes, digest: str, size: int | None = None) -> ChunkList:
    """Parse the list of the file ``digest`` (whose size, when known, is ``size``); any
    deviation from the canonical form is a CorruptObjectError naming the list."""
    what = f"chunk list of {digest}"
    text, head = ascii_header(data, _HEADER, what, "artvcs-chunks 1 <digest> <size> <count>")
    if head.group(1) != digest:
        raise CorruptObjectError(f"{what} describes another file ({head.group(1)}): refused")
    total, count = int(head.group(2)), int(head.group(3))
    if size is not None and total != size:
        raise CorruptObjectError(f"{what} says the file has {total} bytes, not {size}: refused")
    if count > MAX_COUNT or count > total:
        raise CorruptObjectError(f"{what} claims {count} chunks for {total} bytes: refused")
    rows_bytes = len(data) - head.end()  # (ASCII: as many bytes as characters)
    if rows_bytes > count * _ROW_MAX or rows_bytes < count * _ROW_MIN:
        raise CorruptObjectError(f"{what} has {rows_bytes} bytes of rows for {count} chunks: refused")
    fast = fast_rows(data, head.end(), count, MAX_CHUNK, digest)
    if fast is not None and fast[1] == total:
        return ChunkList(digest, total, tuple(fast[0]))
    # not canonical, or out of bounds: walk the rows to name the first bad one
    body = text[head.end():]
    chunks: list[tuple[str, int]] = []
    pos, added = 0, 0
    for _ in range(count):
        row = _ROW.match(body, pos)
        if row is None:
            raise CorruptObjectError(f"{what}: row {len(chunks) + 1} is not '<digest> <size>': refused")
        d, n = row.group(1), int(row.group(2))
        if n > MAX_CHUNK:
            raise CorruptObjectError(f"{what}: chunk {d} claims {n} bytes, above the {MAX_CHUNK} limit: refused")
        if d == digest:
            raise CorruptObjectError(f"{what} names the file itself as a chunk: refused")
        chunks.append((d, n))
        added += n
        pos = row.end()
    if pos != len(body):
        raise CorruptObjectError(f"{what} has bytes after its {count} rows: refused")
    if added != total:
        raise CorruptObjectError(f"{what}: its chunks add up to {added} bytes, not {total}: refused")
    return ChunkList(digest, total, tuple(chunks))
