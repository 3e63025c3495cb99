"""The multi-pack index: one file that finds any chunk of the local packs it covers, without reading
their indexes.

Every chunked read or write used to parse every pack's index first (~2-4 ms per 64 MiB pack, over a
minute per TiB of chunks). ``chunks/multi-pack-index`` holds, for the packs it names, one record per
chunk digest, sorted, in fixed-width columns read in place from a memory map by binary search (the
design of git's multi-pack-index, gitformat-pack(5)); only its checksum is computed over the whole
file when it is opened. Layout (little-endian; artvcs-format(5), CHUNKED FILES)::

    header   "artvcs-midx 1\\n\\0\\0" (16 bytes), u32 packs P, u32 chunks N
    packs    P x (20-byte pack name, u32 rows)        the covered packs, numbered in this order
    fanout   65536 x u32: records whose digest's first two bytes are <= i
    digests  N x 32-byte chunk digest, strictly ascending
    places   N x (u32 pack number, u32 row in that pack), in the order of the digests
    checksum 32-byte blake3 of everything before it

It is a cache of what the pack indexes say, never trusted over them: it only says which pack to
read; the offset and size of a chunk come from that pack's own index (checked against its name),
read when a chunk of the pack is first asked for, and a pack whose index does not hold the chunk
there makes the reader distrust the whole file. A file that fails a check here is ignored
(:class:`CorruptObjectError`) and rebuilt, and a reader that finds a covered pack gone reads the
pack indexes instead; every chunk is still hashed when it is read.
"""
from __future__ import annotations

import contextlib
import mmap
import os
import secrets
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import repeat
from operator import itemgetter

import blake3

from . import chunklist
from .copyhash import write_all
from .durability import fsync_dir
from .errors import CorruptObjectError
from .hashing import is_digest

FILENAME = "multi-pack-index"
MAGIC = b"artvcs-midx 1\n\0\0"
_HEAD = struct.Struct("<16sII")
_PACK = struct.Struct("<20sI")
_PLACE = struct.Struct("<II")
FANOUT = 1 << 16
DIGEST = 32
SUM = 32
MAX_PACKS = 1 << 24
MAX_PACK_ROWS = 1 << 16  # a chunk pack's most rows (chunkpacks.MAX_PACK_CHUNKS: row numbers here count to it)
_BOUNDS = [i.to_bytes(2, "big") for i in range(1, FANOUT)] + [b"\xff" * (DIGEST + 1)]  # above each fanout bucket


def _layout(packs: int, chunks: int) -> tuple[int, int, int, int]:
    """Offsets of the fanout, the digests, the places and the checksum for ``packs`` and ``chunks``."""
    fanout = _HEAD.size + packs * _PACK.size
    digests = fanout + FANOUT * 4
    places = digests + chunks * DIGEST
    return fanout, digests, places, places + chunks * _PLACE.size


class MultiPackIndex:
    """A multi-pack index checked for shape and checksum; lookups read its records in place.

    ``buf`` is the file's bytes (a memory map, or bytes in tests). A record that names a pack or
    row outside the file's own tables raises CorruptObjectError when it is looked up."""

    def __init__(self, buf, what: str = FILENAME) -> None:
        self.what = what
        if len(buf) < _HEAD.size + FANOUT * 4 + SUM:
            raise CorruptObjectError(f"{what} is {len(buf)} bytes, shorter than its header: ignored")
        magic, npacks, nchunks = _HEAD.unpack_from(buf, 0)
        if magic != MAGIC:
            raise CorruptObjectError(f"{what} does not begin with {MAGIC!r}: ignored")
        if npacks > MAX_PACKS or nchunks > npacks * MAX_PACK_ROWS:
            raise CorruptObjectError(f"{what} claims {npacks} packs and {nchunks} chunks, beyond its limits: ignored")
        fan, self._digests, self._places, end = _layout(npacks, nchunks)
        if len(buf) != end + SUM:
            raise CorruptObjectError(f"{what} is {len(buf)} bytes, not the {end + SUM} its counts make: ignored")
        with memoryview(buf) as view:
            ok = blake3.blake3(view[:end], max_threads=blake3.blake3.AUTO).digest() == bytes(buf[end:])
        if not ok:
            raise CorruptObjectError(f"{what} fails its checksum (torn or damaged): ignored")
        self._buf, self.count = buf, nchunks
        names, self.rows = [], []
        for i in range(npacks):
            raw, rows = _PACK.unpack_from(buf, _HEAD.size + i * _PACK.size)
            names.append(raw.hex())
            self.rows.append(rows)
        self.names: list[str] = names
        if len(set(names)) != npacks or sum(self.rows) < nchunks or max(self.rows, default=1) > MAX_PACK_ROWS:
            raise CorruptObjectError(f"{what}: its pack table repeats a pack or miscounts rows: ignored")
        self._fanout = array("I", bytes(buf[fan:fan + FANOUT * 4]))
        if sys.byteorder == "big":
            self._fanout.byteswap()
        if self._fanout[-1] != nchunks:
            raise CorruptObjectError(f"{what}: its fanout table does not end at its {nchunks} chunks: ignored")
        if not _ascending(self._fanout):
            raise CorruptObjectError(f"{what}: its fanout table is not in order: ignored")

    def _search(self, key: bytes) -> tuple[int, bool]:
        """``(i, found)``: the record of ``key``, or where it would go. Bounds come from the fanout
        but are clamped, so a lying fanout makes a lookup miss, never run away."""
        b = key[0] << 8 | key[1]
        lo = min(self._fanout[b - 1], self.count) if b else 0
        hi = min(self._fanout[b], self.count)
        buf, base = self._buf, self._digests
        while lo < hi:
            mid = (lo + hi) >> 1
            at = base + mid * DIGEST
            d = buf[at:at + DIGEST]
            if d < key:
                lo = mid + 1
            elif d == key:
                return mid, True
            else:
                hi = mid
        return lo, False

    def find(self, digest: str) -> tuple[str, int] | None:
        """``(pack, row)`` of chunk ``digest``, or None, also for anything not 64 lowercase hex (no
        chunk is named so; an uppercase one would find a record its pack's rows do not hold).

        On the path of every chunk a chunked write looks up, mostly absent ones: a two-byte fanout
        leaves a few records to look at, searched for in C (``find`` on the column, a hit counted
        only at a record boundary), and a binary search only where a bucket is large."""
        if not is_digest(digest):
            return None
        key = bytes.fromhex(digest)
        b = key[0] << 8 | key[1]
        fan = self._fanout
        lo = fan[b - 1] if b else 0
        hi = fan[b]
        if hi <= lo:
            return None
        if hi > self.count:
            hi = self.count
        if hi - lo > 64:
            i, found = self._search(key)
            return self.record(i) if found else None
        base, buf = self._digests, self._buf
        end = base + hi * DIGEST
        at = buf.find(key, base + lo * DIGEST, end)
        while at >= 0 and (at - base) % DIGEST:
            at = buf.find(key, at + 1, end)
        return None if at < 0 else self.record((at - base) // DIGEST)

    def record(self, i: int) -> tuple[str, int]:
        pack, row = _PLACE.unpack_from(self._buf, self._places + i * _PLACE.size)
        if pack >= len(self.names) or row >= self.rows[pack]:
            raise CorruptObjectError(f"{self.what}: record {i + 1} names row {row + 1} of pack {pack}, "
                                     "which its pack table lacks: ignored")
        return self.names[pack], row

    def digest(self, i: int) -> str:
        at = self._digests + i * DIGEST
        return bytes(self._buf[at:at + DIGEST]).hex()

    def __iter__(self) -> Iterator[str]:
        return (self.digest(i) for i in range(self.count))

    def close(self) -> None:
        if isinstance(self._buf, mmap.mmap):
            self._buf.close()


def _ascending(fanout: array) -> bool:
    """Whether the fanout never decreases: in C where built (a list of 65,536 numbers made and sorted
    cost ~2-4 ms of every chunked checkout), else as a sorted list is sorted again in one pass."""
    if chunklist.native() and hasattr(chunklist._chunkrows, "ascending_u32"):
        return chunklist._chunkrows.ascending_u32(fanout)
    counts = fanout.tolist()
    return counts == sorted(counts)


def open_index(folder: str) -> MultiPackIndex | None:
    """The multi-pack index of ``folder``, or None when there is none (CorruptObjectError when
    it fails a check)."""
    path = os.path.join(folder, FILENAME)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            raise CorruptObjectError(f"{path} is empty: ignored")
        buf = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    try:
        return MultiPackIndex(buf, path)
    except BaseException:
        buf.close()
        raise


def encode(packs: list[tuple[str, list[tuple[str, int]]]], base: MultiPackIndex | None = None) -> bytes:
    """The bytes of a multi-pack index (:func:`parts`, joined)."""
    return b"".join(parts(packs, base))


def parts(packs: list[tuple[str, list[tuple[str, int]]]], base: MultiPackIndex | None = None) -> list:
    """The pieces, in order, of a multi-pack index of ``base``'s packs (kept, numbered as in it)
    followed by ``packs`` (name and rows in pack order, none of them in ``base``): the base's
    records are copied in runs between the new ones, never unpacked. A chunk in several packs keeps the record of the first:
    base's, then the first of ``packs``. (A base's fanout is in order: checked when it was opened.)"""
    names = list(base.names) if base else []
    counts = list(base.rows) if base else []
    fresh: dict[bytes, bytes] = {}
    numbered = []
    for name, rows in packs:
        numbered.append((len(names), rows))
        names.append(name)
        counts.append(len(rows))
    for number, rows in reversed(numbered):  # whole-list operations in C; later updates win, so the
        n = len(rows)                        # packs and their rows go in backwards: the first stays
        fresh.update(zip(map(bytes.fromhex, map(itemgetter(0), reversed(rows))),
                         map(_PLACE.pack, repeat(number, n), range(n - 1, -1, -1))))
    groups = list(_groups(sorted(fresh), base))  # drops the chunks the base holds
    old = base.count if base else 0
    view = memoryview(base._buf) if base is not None else None
    digests: list = []
    places: list = []
    added: list[bytes] = []
    done = 0
    for start, group in groups:  # splice the new records between the base's
        if view is not None and start > done:
            digests.append(view[base._digests + done * DIGEST:base._digests + start * DIGEST])
            places.append(view[base._places + done * _PLACE.size:base._places + start * _PLACE.size])
            done = start
        digests.append(b"".join(group))
        places.append(b"".join(map(fresh.__getitem__, group)))
        added += group
    if view is not None:
        if done < old:
            digests.append(view[base._digests + done * DIGEST:base._digests + old * DIGEST])
            places.append(view[base._places + done * _PLACE.size:base._places + old * _PLACE.size])
        view.release()  # (the slices hold the map on their own)
    new = len(added)
    counts_below = map(partial(bisect_left, added), _BOUNDS)  # new records below each next prefix
    fanout = array("I", map(int.__add__, base._fanout, counts_below) if base else counts_below)
    if sys.byteorder == "big":
        fanout.byteswap()
    try:  # each column joined in C: cheaper than a write and a hash update per splice
        out = [_HEAD.pack(MAGIC, len(names), old + new),
               b"".join(_PACK.pack(bytes.fromhex(n), c) for n, c in zip(names, counts)),
               fanout.tobytes(), b"".join(digests), b"".join(places)]
    finally:
        _release(digests + places)
    h = blake3.blake3(max_threads=blake3.blake3.AUTO)
    for piece in out:
        h.update(piece)
    return out + [h.digest()]


def _release(pieces: list) -> None:
    for piece in pieces:
        if isinstance(piece, memoryview):
            piece.release()


def _groups(keys: list[bytes], base: MultiPackIndex | None) -> Iterable[tuple[int, list[bytes]]]:
    """Runs of the sorted new ``keys`` that go at the same place among ``base``'s records (the keys
    ``base`` holds left out)."""
    if base is None:
        if keys:
            yield 0, keys
        return
    start, group = -1, []
    for k in keys:
        at, found = base._search(k)
        if found:
            continue
        if at != start and group:
            yield start, group
            group = []
        start = at
        group.append(k)
    if group:
        yield start, group


def write(folder: str, pieces) -> None:
    """Install the index made of ``pieces`` (bytes, or :func:`parts`) as the folder's multi-pack index: a temporary file, fsynced, renamed over the old one, and the
    folder fsynced, so a reader sees the old index or the new, whole."""
    if isinstance(pieces, (bytes, bytearray)):
        pieces = [pieces]
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{secrets.token_hex(6)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            for piece in pieces:
                write_all(fd, piece)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(folder, FILENAME))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def remove(folder: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(folder, FILENAME))


def disagreement(midx: MultiPackIndex, packs: dict[str, list[tuple[str, int]]]) -> str | None:
    """How ``midx`` departs from the pack indexes ``packs`` (every pack present), or None when it
    agrees: each pack it names present with the rows it counts, and each chunk of those packs
    found, exactly once, at a row of a covered pack that holds it (for fsck)."""
    gone = sorted(set(midx.names) - set(packs))
    if gone:
        return f"names pack {gone[0]}, whose index is gone or unreadable"
    for name, count in zip(midx.names, midx.rows):
        if len(packs[name]) != count:
            return f"counts {count} rows in pack {name}, whose index has {len(packs[name])}"
    held = {d for name in midx.names for d, _ in packs[name]}
    if midx.count != len(held):
        return f"holds {midx.count} chunks where its packs hold {len(held)}"
    last = b""
    for i in range(midx.count):
        d = midx.digest(i)
        if bytes.fromhex(d) <= last:
            return f"record {i + 1} is out of order"
        last = bytes.fromhex(d)
        pack, row = midx.record(i)
        if packs[pack][row][0] != d:
            return f"places chunk {d} at row {row + 1} of pack {pack}, which holds another"
        if midx.find(d) != (pack, row):
            return f"chunk {d} is not found by its fanout"
    return None
