"""Content-defined chunking of large files (FastCDC: our C cutter, else pyfastcdc's Cython one).

A file of ``store.CHUNK_THRESHOLD`` bytes or more is cut where its content says
(a rolling gear hash), not at fixed offsets, so an insertion or an edit moves
only the cut points near it and every other chunk keeps its bytes and so its
digest. The parameters are part of what makes two versions share chunks, not
of the format: a reader never re-chunks, it follows the chunk list.
Measured choices are in bench/chunks.py and bench/RESULTS.md.

The cut runs in ``_cdc`` (plumbing/_native/cdc.c): one call per block with the GIL
released, no Python object per chunk, so the threads that hash and write chunks
run beside it. It gives exactly pyfastcdc's cut points (same gear table, masks
and loop), so stores written with and without it share chunks. Where it is not
built, or with ARTVCS_NATIVE=0, pyfastcdc cuts (its Cython loop releases the GIL
for each chunk, and makes a Chunk object and a memoryview of each).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .native import fresh

try:
    from . import _cdc
except ImportError:  # built by pip install -e . where a compiler is; pyfastcdc gives the same cuts
    _cdc = None
_native_cut = getattr(fresh(_cdc), "cut", None)  # not a build its source has moved past (plumbing/native.py)

# Chosen from bench/chunks.py --sweep: a 2 % edit in scattered 64 KiB regions costs the chunks
# it touches, about 2.0x the change at this size (chunks average ~40 KiB) against 3.3x at a
# 64 KiB target (~80 KiB chunks); normalised chunking above level 1 made it worse. pyfastcdc
# wants a power of two, and its chunks average about AVG + MIN.
AVG_SIZE = 32 * 1024
MIN_SIZE = 8 * 1024
MAX_SIZE = 128 * 1024
NORMALIZATION = 1
BLOCK = 8 * 1024 * 1024  # bytes read per step: memory stays flat whatever the file size

if TYPE_CHECKING:
    import pyfastcdc


def chunker() -> "pyfastcdc.FastCDC":
    """A FastCDC cutter with artvcs's parameters (one per thread: it is not thread-safe)."""
    import pyfastcdc  # only when a large file is written: start-up stays fast

    return pyfastcdc.FastCDC(AVG_SIZE, min_size=MIN_SIZE, max_size=MAX_SIZE, normalized_chunking=NORMALIZATION)


def native() -> bool:
    """Whether cuts come from the C cutter (built, and not turned off by ARTVCS_NATIVE=0)."""
    return _native_cut is not None and os.environ.get("ARTVCS_NATIVE", "1") != "0"


def cut_lengths(buf) -> list[int]:
    """The lengths of the chunks FastCDC cuts ``buf`` into, in order, as if ``buf`` were a whole file:
    the C cutter (GIL released) where there is one, else pyfastcdc (the same cuts)."""
    if native():
        return _native_cut(buf, MIN_SIZE, AVG_SIZE, MAX_SIZE, NORMALIZATION)
    return [c.length for c in chunker().cut_buf(buf)]


def read_blocks(fd: int, new_buffer: Callable[[], bytearray] | None = None) -> Iterator[tuple[bytearray, int]]:
    """Read ``fd`` from its current offset to its end in blocks; yield ``(buf, filled)``: ``filled``
    bytes at ``buf[MAX_SIZE:]`` (fewer than BLOCK only at the end), with MAX_SIZE bytes of room before
    them for the chunk that the previous block cut short (:class:`Cutter` puts it there).

    Each block is a private copy (read(2), not a map), so the bytes hashed are the bytes stored even
    if the file changes meanwhile, and a file truncated under us cannot fault. ``new_buffer`` gives
    a buffer of MAX_SIZE + BLOCK bytes to read into (a reused one saves zeroing and faulting in
    fresh memory for every block)."""
    while True:
        buf = new_buffer() if new_buffer is not None else bytearray(MAX_SIZE + BLOCK)
        view = memoryview(buf)
        filled = MAX_SIZE
        while filled < len(buf):
            n = os.readv(fd, [view[filled:]])
            if n == 0:
                break
            filled += n
        yield buf, filled - MAX_SIZE
        if filled < len(buf):
            return


class Cutter:
    """Cuts the blocks of :func:`read_blocks` in order into whole chunks, carrying a chunk cut short by
    the end of a block into the next one: FastCDC's cut points depend only on the bytes since the last
    cut, so the result is the one a single pass over the whole file would give."""

    def __init__(self) -> None:
        if BLOCK <= MAX_SIZE:
            raise ValueError(f"chunking block {BLOCK} must be larger than the largest chunk {MAX_SIZE}")
        self.carry = b""

    def cut(self, buf: bytearray, filled: int) -> tuple[memoryview, list[tuple[int, int]]]:
        """``(block, cuts)``: the carried bytes and the block's new ones as one view, and the
        ``(offset, length)`` of the whole chunks inside it, in file order (the last one carried
        unless the block ends the file)."""
        head = MAX_SIZE - len(self.carry)
        buf[head:MAX_SIZE] = self.carry
        view = memoryview(buf)[head:MAX_SIZE + filled]
        cuts, at = [], 0
        for n in cut_lengths(view):
            cuts.append((at, n))
            at += n
        if filled == BLOCK and cuts:
            last_off, _ = cuts.pop()  # may end only because the block did: cut it again with more bytes
            self.carry = bytes(view[last_off:])
        else:
            self.carry = b""
        return view, cuts


def iter_blocks(fd: int) -> Iterator[tuple[memoryview, list[tuple[int, int]]]]:
    """Read ``fd`` from its current offset to its end; yield ``(block, cuts)`` where ``cuts`` are
    ``(offset, length)`` of whole chunks inside ``block``, in file order (:class:`Cutter`)."""
    cutter = Cutter()
    for buf, filled in read_blocks(fd):
        view, cuts = cutter.cut(buf, filled)
        if len(view):
            yield view, cuts
