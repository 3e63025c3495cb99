"""The runs of a chunked file found from the texts of its list and its packs' indexes, in C.

A checkout copies a chunked file a run at a time: neighbouring chunks that lie back to back in one
pack (:func:`chunkstore._runs`). Finding them from parsed rows makes a Python object per chunk of the
list and of every pack index it touches (~27,000 each per GiB), most of what a checkout spends
before its first copy. Both texts are canonical rows ``<digest> <size>\\n``, so a run is the longest
stretch of the list's text equal to the text of its first chunk's pack index from that chunk's row
on: found with ``_chunkrows.common``, after each text is checked as :func:`chunklist.parse` and
:func:`chunkpacks.parse_idx` check it (``_chunkrows.check``; an index against its name too), with
no row object made. The multi-pack index says which pack and row to start each run at; the pack's
own index must hold the chunk there (the same text), as :class:`chunkpacks.IndexedPlaces` requires.
Each index's row starts are found once, in its check (``_chunkrows.starts``), so a run's row is
looked up by number: a scattered file's runs, in any order, cost no walk from a pack's first row.

It only ever answers for the plain case: every pack covered by a sound multi-pack index, the list
and the indexes canonical, every chunk found at the row the multi-pack index names. Anything else
(a missing or corrupt chunk, a lying index, no C module, ARTVCS_NATIVE=0) is None, and the caller
takes the parsed path, which reads the same packs and names what is wrong.
"""
from __future__ import annotations

import os
import re

from . import chunklist
from .chunklist import MAX_CHUNK, MAX_COUNT
from .chunkpacks import MAX_IDX_BYTES, MAX_PACK_CHUNKS, LocalPacks, idx_name
from .errors import CorruptObjectError

_LIST_HEAD = re.compile(rb"artvcs-chunks 1 ([0-9a-f]{64}) (0|[1-9][0-9]{0,15}) ([1-9][0-9]{0,8})\n")
_IDX_HEAD = re.compile(rb"artvcs-chunkpack 1 ([1-9][0-9]{0,5})\n")

Run = tuple[str, int, int, int]  # (pack, offset in it, length, the list's row of its first chunk)


def available() -> bool:
    """Whether the text walk can run: the C module with ``common`` built and not turned off."""
    rows = chunklist._chunkrows
    return chunklist.native() and hasattr(rows, "common") and hasattr(rows, "check") and hasattr(rows, "starts")


def text_runs(packs: LocalPacks, raw: bytes, digest: str) -> tuple[int, list[Run]] | None:
    """``(size, runs)`` of the chunked file ``digest`` whose stored list is ``raw``, in file order,
    or None when the text walk does not apply or finds anything amiss (see the module's doc):
    the caller then parses the list and walks its rows (:func:`chunkstore._runs`)."""
    where = packs.where
    midx = getattr(where, "midx", None)
    if not available() or midx is None or getattr(where, "distrusted", True) or packs.packs.read:
        return None  # (packs read at open are outside the multi-pack index, and answer first)
    head = _LIST_HEAD.match(raw)
    if head is None or head.group(1).decode("ascii") != digest:
        return None
    total, count = int(head.group(2)), int(head.group(3))
    native = chunklist._chunkrows
    if count > MAX_COUNT or count > total or native.check(raw, head.end(), count, MAX_CHUNK, digest) != total:
        return None
    texts: dict[str, tuple[bytes, memoryview] | None] = {}
    runs: list[Run] = []
    i, pos = 0, head.end()
    while i < count:
        try:
            at = midx.find(raw[pos:pos + 64].decode("ascii"))
        except CorruptObjectError:
            return None
        if at is None:
            return None
        pack, row = at
        if pack not in texts:
            texts[pack] = _index_text(packs, pack)
        text = texts[pack]
        if text is None:
            return None
        data, starts = text
        if not 0 <= row < len(starts) // 2:
            return None
        k, end, length = native.common(raw, pos, data, starts[2 * row])
        if k == 0:  # the pack's row is another chunk, or the same of another size
            return None
        runs.append((pack, starts[2 * row + 1], length, i))
        i, pos = i + k, end
    return total, runs


def _index_text(packs: LocalPacks, name: str) -> tuple[bytes, memoryview] | None:
    """The bytes of pack ``name``'s index and, for each row, where it begins in them and the sum of
    the sizes before it (``[start0, offset0, start1, offset1, ...]``), when the index hashes to its
    name and is canonical (as :func:`chunkpacks.parse_idx` requires); else None."""
    try:
        data = read_bounded(packs.path(name, "idx"), MAX_IDX_BYTES + 1)
    except OSError:
        return None
    head = _IDX_HEAD.match(data)
    if len(data) > MAX_IDX_BYTES or head is None or int(head.group(1)) > MAX_PACK_CHUNKS or idx_name(data) != name:
        return None
    found = chunklist._chunkrows.starts(data, head.end(), int(head.group(1)), MAX_CHUNK, None)
    if found is None:
        return None
    return data, memoryview(found[0]).cast("q")


def list_bytes(path: str) -> bytes:
    """The bytes of the list at ``path``, at most as many as the largest well-formed list has plus
    one (FileNotFoundError when there is none)."""
    return read_bounded(path, chunklist.max_encoded_size(MAX_COUNT) + 1)


def read_bounded(path: str, limit: int) -> bytes:
    """The first ``limit`` bytes of the file at ``path`` (all of it when shorter), read in calls of
    its size: ``read(limit)`` on a buffered file allocates ``limit`` bytes first, and a list's limit
    is over a GiB (1.6 ms of page mapping per checkout, measured, for a 2 MB list)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        want = min(os.fstat(fd).st_size + 1, limit)  # one byte more: a file grown since is read on
        parts = []
        while limit > 0:
            part = os.read(fd, want)
            if not part:
                break
            parts.append(part)
            limit -= len(part)
            want = min(want, limit)
        return parts[0] if len(parts) == 1 else b"".join(parts)
    finally:
        os.close(fd)

