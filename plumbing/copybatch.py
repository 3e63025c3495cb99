"""A checkout's small copies and hard links, verified, a batch at a time: read, hash, write (or link).

Reading a batch of store files and writing a batch of new files run in C
(``_copybatch``, built from ``_native/copybatch.c``) with the GIL released,
on a reader thread and WRITERS writer threads, while this thread hashes
each batch between them: they overlap on two cores, and no per-file system
call goes through the interpreter. The order per file is that of
:func:`placefile.copy`'s small path: the bytes are read (one byte more than
the manifest's size, so a larger store file shows), hashed, and only once
they match is the target created (O_EXCL). Every file that does not go that
plain way (could not be read, holds other bytes, larger than its manifest
size, could not be created: something is there now, a folder replaced, no
permission) is handed to :func:`placefile.place` to do in full, which
raises the error that says why, or replaces what appeared. Without the C
module (no compiler, or ``ARTVCS_NATIVE=0``) the checkout keeps placing one
file at a time (:func:`placefile.place`); :func:`read_batch_python` and
:func:`write_batch_python` are the C loops in Python, which the tests compare
with them.

A hardlink checkout's new small files go the same way, a slice per thread
(:class:`Linker`): each slice's store files are read in C, hashed, and
only the ones that hold their digest are linked (``link_batch``, in C;
:func:`link_batch_python` is its loop); every other is handed to
:func:`placefile.place`, which verifies it again and raises the error naming
it, no link made.
"""
from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from .copyhash import holds, write_all
from .hashing import MMAP_THRESHOLD
from .native import fresh

try:
    from . import _copybatch
except ImportError:  # built without a compiler: placefile.place does each file instead
    _copybatch = None
_copybatch = fresh(_copybatch)  # a build its source has moved past is not used (plumbing/native.py)
_native_read = getattr(_copybatch, "read_batch", None)
_native_write = getattr(_copybatch, "write_batch", None)
_native_link = getattr(_copybatch, "link_batch", None)

BATCH_FILES = 256  # files per read or write call
BATCH_BYTES = 4 << 20  # and at most this many bytes (of manifest size) per call
AHEAD = 2  # batches read ahead of the hashing, and written behind it: memory stays flat
# Threads writing batches. Creating and filling new files is the kernel's work and the checkout's
# longest part; a second writer takes the next batch (most often another folder) on the other
# core: 20,000 small files, whole command, 0.96x cp -a against 1.08x with one (8 rounds in turns).
WRITERS = min(2, os.cpu_count() or 1)
LINKERS = min(2, os.cpu_count() or 1)  # threads of link_verified, each a slice at a time


def native() -> bool:
    """Whether the C read and write batches are there and not turned off (ARTVCS_NATIVE=0)."""
    return _native_read is not None and _native_write is not None and os.environ.get("ARTVCS_NATIVE", "1") != "0"


def native_link() -> bool:
    """Whether the C link batch (:class:`Linker`) is there too, and not turned off."""
    return native() and _native_link is not None


def read_batch_python(srcs: list[str], sizes: list[int]) -> list[bytes | None]:
    """The loop of ``read_batch`` in C: one read of ``size + 1`` bytes from each file's start;
    None where it cannot be opened or read."""
    out: list[bytes | None] = []
    for src, size in zip(srcs, sizes):
        try:
            fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            out.append(None)
            continue
        try:
            out.append(os.pread(fd, size + 1, 0))
        except OSError:
            out.append(None)
        finally:
            os.close(fd)
    return out


def write_batch_python(dsts: list[str], datas: list[bytes]) -> list[tuple | int]:
    """The loop of ``write_batch`` in C: create each new file (O_EXCL) with its bytes; its
    ``(dev, ino, size, mtime_ns, ctime_ns)`` once written, or the errno that stopped it (the
    half-written file removed)."""
    out: list[tuple | int] = []
    for dst, data in zip(dsts, datas):
        try:
            fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except OSError as e:
            out.append(e.errno)
            continue
        try:
            write_all(fd, data)
            st = os.fstat(fd)
        except OSError as e:
            os.unlink(dst)
            out.append(e.errno)
            continue
        except BaseException:  # (not bytes, an interrupt): nothing half-written is left either
            os.unlink(dst)
            raise
        finally:
            os.close(fd)
        out.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return out


def link_batch_python(srcs: list[str], dsts: list[str]) -> list[int | None]:
    """The loop of ``link_batch`` in C: hard-link each store file at its new target (a link already
    at the target is EEXIST, never followed); None once linked, or the errno that stopped it. A
    store file that is not a regular file (a symbolic link: its target was what the read hashed)
    is EPERM, not linked."""
    out: list[int | None] = []
    for src, dst in zip(srcs, dsts):
        try:
            if not stat.S_ISREG(os.lstat(src).st_mode):
                out.append(errno.EPERM)
                continue
            os.link(src, dst, follow_symlinks=False)
        except OSError as e:
            out.append(e.errno)
            continue
        out.append(None)
    return out


def eligible(f) -> bool:
    """Whether a checkout file goes through the batches: a small stored file with a manifest size,
    and nothing at its target (a replacement is written beside it and renamed: placefile)."""
    size = f.entry.size
    return not f.present and type(size) is int and 0 <= size < MMAP_THRESHOLD


def _slices(files: list) -> list[list]:
    out, part, nbytes = [], [], 0
    for f in files:
        part.append(f)
        nbytes += f.entry.size
        if len(part) == BATCH_FILES or nbytes >= BATCH_BYTES:
            out.append(part)
            part, nbytes = [], 0
    if part:
        out.append(part)
    return out


class Linker:
    """A hardlink checkout's new small files, linked verified a batch at a time (:meth:`link`), on
    LINKERS threads kept for the whole checkout (:meth:`close` ends them). Each thread takes a
    slice, reads its store files (C, without the GIL), hashes them, and links (C) the ones that
    hold their digest; no thread hands work to another, so a busy machine that runs one late
    delays only its own slice. ``place_one(f)`` places every file not linked so (bytes that do
    not match, a store file that cannot be read, something at the target) in the caller's thread
    once the slices are done: it links it, replaces what is there, or raises the error naming it
    (a rotten store file: no link is made)."""

    def __init__(self, place_one: Callable) -> None:
        self._read, self._link, self._place_one = _native_read, _native_link, place_one  # (native_link())
        self._pool = ThreadPoolExecutor(LINKERS) if LINKERS > 1 else None

    def link(self, files: list) -> list:
        """Link every one of the :func:`eligible` checkout ``files`` (each with ``src``, ``target``,
        ``entry``), or raise the first error ``place_one`` raises; the stats, in the order of
        ``files``: None for a link, ``place_one``'s answer for a file it placed (a copy made where
        the store file had all the links it can have, EMLINK, has one: the stat cache records it)."""
        parts = _slices(files)
        if self._pool is None or len(parts) < 2:
            redo = [f for part in parts for f in self._slice(part)]
        else:  # (an error of a slice goes up once every slice is done)
            redo = [f for r in self._pool.map(self._slice, parts) for f in r]
        placed = {id(f): self._place_one(f) for f in redo}
        return [placed.get(id(f)) for f in files]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _slice(self, part: list) -> list:
        """Link the files of ``part`` that verify; the others, to be placed in full."""
        datas = self._read([f.src for f in part], [f.entry.size for f in part])
        good, redo = [], []
        for f, data in zip(part, datas):
            e = f.entry
            (good if data is not None and holds(data, e.size, e.digest) else redo).append(f)
        if good:
            done = self._link([f.src for f in good], [f.target for f in good])
            redo += [f for f, r in zip(good, done) if r is not None]
        return redo


class Pipeline:
    """The batches of one checkout, kept full across the calls that feed them: :meth:`feed` queues
    :func:`eligible` checkout files (each with ``src``, ``target``, ``entry``) and runs the
    pipeline as far as it can without emptying it, :meth:`take` hands over the files written
    so far with their stats, :meth:`close` finishes the rest. A checkout feeds it a batch of
    files at a time (its plan is made a batch at a time), so the reader and the writer never
    wait for a batch boundary. ``place_one(f)`` places a file the batches hand back (see the
    module), in the caller's thread; its error stops the copy (then :meth:`abort`)."""

    def __init__(self, place_one: Callable) -> None:
        self._read, self._write, self._place_one = _native_read, _native_write, place_one
        self._todo: deque[list] = deque()  # slices not yet read
        self._reads: deque[tuple[list, Future]] = deque()
        self._writes: deque[tuple[list, Future]] = deque()
        self._files: list = []
        self._stats: list = []
        self._redo: list = []
        self._reader = ThreadPoolExecutor(1)
        self._writer = ThreadPoolExecutor(WRITERS)  # (the batches are collected in order all the same)

    def feed(self, files: list) -> None:
        self._todo.extend(_slices(files))
        self._pump(drain=False)

    def take(self) -> tuple[list, list]:
        """The files written since the last call, and their stats: the batches' ``(dev, ino, size,
        mtime_ns, ctime_ns)``, or place's os.stat_result."""
        out = self._files, self._stats
        self._files, self._stats = [], []
        return out

    def close(self) -> tuple[list, list]:
        """Finish every file fed (the ones handed back last, by ``place_one``); :meth:`take`'s answer."""
        try:
            self._pump(drain=True)
            redo, self._redo = self._redo, []
            for f in redo:
                st = self._place_one(f)
                self._files.append(f)
                self._stats.append(st)
        except BaseException:
            self.abort()
            raise
        self._shutdown()
        return self.take()

    def abort(self) -> None:
        """Stop: nothing more is read; the writes under way finish (each file whole, or nothing)
        and what they wrote is kept for :meth:`take`, so that a failure keeps every file it wrote
        recorded."""
        for _, fut in self._reads:
            fut.cancel()
        self._reads.clear()
        self._todo.clear()
        self._redo = []
        self._reader.shutdown(wait=True)
        try:
            while self._writes:
                self._collect(*self._writes.popleft())
        except Exception:  # the error under way is the one that counts
            self._writes.clear()
        self._redo = []
        self._shutdown()

    def _shutdown(self) -> None:
        self._reader.shutdown(wait=True)
        self._writer.shutdown(wait=True)

    def _pump(self, drain: bool) -> None:
        # At most AHEAD + 1 slices read ahead of the hashing and AHEAD + 1 written behind it: memory stays flat.
        reads, writes, todo = self._reads, self._writes, self._todo
        while True:
            while todo and len(reads) <= AHEAD:
                s = todo.popleft()
                reads.append((s, self._reader.submit(self._read, [f.src for f in s], [f.entry.size for f in s])))
            if not reads or (not drain and len(reads) <= AHEAD):
                break
            part, fut = reads.popleft()
            ok_files, ok_datas = [], []
            for f, data in zip(part, fut.result()):
                e = f.entry
                if data is not None and holds(data, e.size, e.digest):
                    ok_files.append(f)
                    ok_datas.append(data)
                else:
                    st = self._place_one(f)  # verified in full: raises on corruption
                    self._files.append(f)
                    self._stats.append(st)
            if ok_files:
                writes.append((ok_files, self._writer.submit(self._write, [f.target for f in ok_files], ok_datas)))
            while len(writes) > AHEAD:
                self._collect(*writes.popleft())
        while drain and writes:
            self._collect(*writes.popleft())

    def _collect(self, part: list, fut: Future) -> None:
        for f, r in zip(part, fut.result()):
            if type(r) is int:
                self._redo.append(f)  # not created: place does it in full (and says why it cannot)
            else:
                self._files.append(f)
                self._stats.append(r)

