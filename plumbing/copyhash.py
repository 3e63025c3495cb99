"""Copying a file and hashing the copy in one pass: into the store, and out of it, verified.

The kernel copies one step (``copy_file_range``, no bytes through Python)
while a second thread hashes the step before it, read back from the page
cache through a memory map of the *copy* (:class:`HashBehind`). So the
digest is always of the bytes stored, never of a source that may still be
changing, and on two cores the hash costs little more than the copy: the
copy alone sets the pace. Writeback of each step is started as
soon as it is copied, so the flush before the version ref overlaps with the
copy instead of following it. With ``ARTVCS_FSYNC=0`` there is no flush to
get ahead of, and writeback is left to the kernel, as ``cp`` leaves it.

:func:`copy_verified` (and, for a checkout's small files of known size,
:func:`read_small_verified`) is the one way a stored object's bytes are handed
over (checkout, download, ``get``, ``cat-object``): what is handed over is
hashed on the way and compared with the digest that names it, so a store
file that rotted in place is an error, never a silent bad copy. Content
stored in chunks is reassembled the same way (:func:`chunkstore.write_chunked`).
"""
from __future__ import annotations

import errno
import fcntl
import mmap
import os
import queue
import threading

import blake3

from . import durability
from .errors import CorruptObjectError, StoppedError
from .hashing import MMAP_THRESHOLD

STEP = 16 * 1024 * 1024  # copied per call and hashed behind the copy per span; a multiple of the page size
READ_CHUNK = 8 * 1024 * 1024


def check_stop(stop: threading.Event | None) -> None:
    """Raise StoppedError once ``stop`` is set: checked by a long copy at each STEP boundary, so
    that copies running beside one that failed (or under an interrupted command) end within a step
    and remove their partial files, instead of copying gigabytes nobody will keep."""
    if stop is not None and stop.is_set():
        raise StoppedError("stopped before the end: another copy failed, or the command was interrupted")


class HashBehind:
    """Hashes the spans of a file, in order, on one thread of its own, as the caller writes them.

    The caller copies a span (in the kernel), queues it, and copies the next while this thread
    hashes the one before, read back from the page cache through a memory map of the *written*
    file: so the digest is of the bytes the file holds (what a reader of it gets), never of a
    source that might differ from them (a hash of the source beside the copy would check bytes
    the kernel reads again on its own, from a page that may be dropped and re-read in between),
    and the span is likely still in the CPU's last-level cache. One thread and one-threaded
    blake3 (~4 GB/s) keep up with the kernel's copy (~2.5 GB/s) on the other core: blake3's own
    threads would take turns with the copy on a two-core machine and gain nothing. The queue is
    unbounded (a span is two integers): the copy never waits for the hash.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.h = blake3.blake3()
        self.error: BaseException | None = None
        self._q: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self._done = threading.Event()  # set as the thread ends (what an interrupted join leaves unsure)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def put(self, off: int, n: int) -> None:
        """Queue the ``n`` bytes written at ``off`` (spans in file order, back to back)."""
        if n:
            self._q.put((off, n))

    def _run(self) -> None:
        try:
            while (span := self._q.get()) is not None:
                if self.error is None:
                    off, n = span
                    try:
                        with mmap.mmap(self.fd, n, offset=off, access=mmap.ACCESS_READ) as m:
                            self.h.update(m)
                    except BaseException as e:  # raised again in the caller's thread by finish()
                        self.error = e
        finally:
            self._done.set()

    def stop(self) -> None:
        """Wait for the thread (after an error of the caller's: the spans queued are dropped)."""
        self.error = self.error or RuntimeError("stopped")
        self._q.put(None)
        self._join()

    def finish(self) -> str:
        """The digest of every span queued (once each is hashed); a hashing error is raised here."""
        self._q.put(None)
        self._join()
        if self.error is not None:
            raise self.error
        return self.h.hexdigest()

    def _join(self) -> None:
        """Wait for the thread. An interrupt meanwhile (KeyboardInterrupt) is raised only once the
        thread has stopped (the spans still queued dropped): the caller closes the fd next, and the
        thread must not map it (or a file that reuses its number) after that."""
        try:
            self._thread.join()
        except BaseException:
            self.error = self.error or RuntimeError("stopped")
            while not self._done.is_set():  # (not is_alive(): an interrupted join can leave it False too soon)
                try:
                    self._done.wait()
                except BaseException:  # a second interrupt: the first one goes up, once stopped
                    pass
            raise


FALLOC_FL_KEEP_SIZE = 1


def preallocate(fd: int, nbytes: int) -> None:
    """Reserve the disk blocks of the ``nbytes`` about to be written into the empty ``fd`` in one
    call (fallocate(2), the file's size left as it is), for a copy whose bytes are really written.

    The kernel's copy then writes into blocks already mapped instead of reserving them page by
    page: ~8 % less CPU on the copying thread, which sets the pace (ext4, measured in
    bench/RESULTS.md). Only for bytes that are written (a chunked file put together from
    unaligned pack offsets): a whole-file copy_file_range may share the source's blocks
    (XFS, btrfs), and reserving its full size first could fail with ENOSPC on a nearly full
    disk where the copy itself would succeed. A full disk is found before anything is copied
    (ENOSPC is raised); where fallocate is missing or refused, nothing is done and the copy
    allocates as it goes. The raw system call, not posix_fallocate, which would write zeros
    where the file system lacks it.
    """
    fn = durability.libc_function("fallocate64", "int", "int", "int64", "int64")  # off64_t, whatever off_t is
    if fn is not None and nbytes > 0 and fn(fd, FALLOC_FL_KEEP_SIZE, 0, nbytes) != 0:
        import ctypes

        if ctypes.get_errno() == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}: no room for the {nbytes} bytes to copy")


def copy_and_hash(src_fd: int, dst_fd: int, writeback: bool = True,
                  stop: threading.Event | None = None) -> tuple[str, int]:
    """Copy ``src_fd`` (from its start) into the empty ``dst_fd``; return ``(digest, size)`` of
    what was written. ``dst_fd`` must be open for reading too (the copy is hashed from it, see
    :class:`HashBehind`). ``writeback`` starts each step's writeback early (for a copy that will
    be flushed). Once ``stop`` is set the copy ends at the next step (StoppedError)."""
    hasher = HashBehind(dst_fd)
    off = 0
    ahead = writeback and durability.enabled()
    try:
        while True:
            check_stop(stop)
            n = _copy_step(src_fd, dst_fd, off)
            if ahead and n:
                durability.start_writeback(dst_fd, off, n)
            hasher.put(off, n)
            off += n
            if n < STEP:
                break
    except BaseException:
        hasher.stop()
        raise
    return hasher.finish(), off


def _copy_step(src_fd: int, dst_fd: int, off: int) -> int:
    """Copy up to STEP bytes at ``off``; fewer only at the end of the source."""
    return copy_range(src_fd, dst_fd, STEP, off, off)


def copy_range(src_fd: int, dst_fd: int, n: int, src_off: int, dst_off: int, block: int = READ_CHUNK) -> int:
    """Copy ``n`` bytes of ``src_fd`` at ``src_off`` to ``dst_fd`` at ``dst_off``, in the kernel where it
    can (copy_file_range), else through a buffer of ``block`` bytes; the bytes copied (fewer only
    when the source ends first)."""
    done = 0
    try:
        while done < n:
            k = os.copy_file_range(src_fd, dst_fd, n - done, src_off + done, dst_off + done)
            if k == 0:
                return done
            done += k
        return done
    except AttributeError:
        pass
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM):
            raise
    while done < n:  # no copy_file_range here: through a buffer
        buf = os.pread(src_fd, min(block, n - done), src_off + done)
        if not buf:
            break
        view = memoryview(buf)
        pos = dst_off + done
        while view:
            w = os.pwrite(dst_fd, view, pos)
            if not w:  # as write_all
                raise OSError(errno.EIO, f"{os.strerror(errno.EIO)}: a write took none of {len(view)} bytes")
            view, pos = view[w:], pos + w
        done += len(buf)
    return done


PAGE = 4096
# A spliced round starts on a 64 KiB boundary of the target, and each splice into the target writes
# 64 KiB there: the target's page cache then gets 64 KiB folios, as cp's copy_file_range of an aligned
# file makes them. Larger writes get larger folios, cheaper on a machine with free memory (256 KiB
# rounds: ~10 % less CPU) but each needing compaction where free memory is fragmented (a full page
# cache): measured up to 1.6x the CPU of copy_file_range then (bench/RESULTS.md, r8-chunkcopy).
ALIGN = 64 * 1024
WRITE = ALIGN
PIPE_BYTES = 1024 * 1024  # the largest pipe an unprivileged process gets by default (fs.pipe-max-size)
_NO_SPLICE = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV, errno.EPERM)


class RangeCopier:
    """Copies byte ranges between files in the kernel, each the fastest way for its page phase.

    A range whose source and target offsets share their offset within a page is copied as ``cp``
    copies (:func:`copy_range`: copy_file_range). One whose offsets do not (a chunked file's runs:
    a pack starts where the previous one's last chunk ended, so 15 of the 16 runs of a fresh 1 GiB
    file start mid-page) costs copy_file_range ~20 % more CPU (measured, bench/RESULTS.md): its
    internal 64 KiB pipe is filled along the *source's* pages, so every write into the target starts
    mid-page, and the page cache then builds the target of single pages, each written twice at its
    ends, instead of 64 KiB folios. So those ranges go through a pipe of our own (splice(2): still
    no byte through user space), in rounds that start on the *target's* ALIGN boundaries and write
    whole multiples of ALIGN (WRITE bytes a splice): the target gets the folios ``cp``'s copy gets,
    and the source's pages are read across their boundaries, which costs nothing. Where splice or
    the pipe is refused, every range goes the copy_range way. ``close`` when done (or use it as a
    context manager).
    """

    def __init__(self) -> None:
        self._pipe: tuple[int, int] | None = None
        self._round = 0
        try:
            r, w = os.pipe2(os.O_CLOEXEC)
        except (AttributeError, OSError):
            return
        try:
            cap = fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (AttributeError, OSError):
            cap = 65536  # (a user over the kernel's pipe quota keeps the default 16 pages)
        # an unaligned source range of k bytes spans k / PAGE + 1 pages: one pipe slot each
        self._round = (cap - PAGE) // ALIGN * ALIGN
        if self._round and hasattr(os, "splice"):
            self._pipe = (r, w)
        else:
            os.close(r)
            os.close(w)

    def __enter__(self) -> "RangeCopier":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pipe (with whatever an interrupted round left in it)."""
        if self._pipe is not None:
            for fd in self._pipe:
                os.close(fd)
            self._pipe = None

    def copy(self, src_fd: int, dst_fd: int, n: int, src_off: int, dst_off: int) -> int:
        """Copy ``n`` bytes of ``src_fd`` at ``src_off`` to ``dst_fd`` at ``dst_off``; the bytes copied
        (fewer only when the source ends first), as :func:`copy_range`."""
        if self._pipe is None or (src_off - dst_off) % PAGE == 0:
            return copy_range(src_fd, dst_fd, n, src_off, dst_off)
        head = min(n, -dst_off % ALIGN)  # up to the target's next ALIGN boundary, the plain way
        done = copy_range(src_fd, dst_fd, head, src_off, dst_off) if head else 0
        if done < head:
            return done
        r, w = self._pipe
        try:
            while done < n:
                got = os.splice(src_fd, w, min(self._round, n - done), offset_src=src_off + done)
                if not got:
                    return done  # the source ended
                while got:  # the pipe is drained before the next round: it never holds more than a round
                    put = os.splice(r, dst_fd, min(got, WRITE), offset_dst=dst_off + done)
                    if not put:  # (as write_all: trying again would loop forever)
                        raise OSError(errno.EIO, f"{os.strerror(errno.EIO)}: a splice into the target took none of {got} bytes")
                    got -= put
                    done += put
        except OSError as e:
            if e.errno not in _NO_SPLICE:
                raise
            self.close()  # splice refused here: the rest (and every later range) the plain way
            return done + copy_range(src_fd, dst_fd, n - done, src_off + done, dst_off + done)
        return done


def read_all(fd: int, size: int) -> bytes:
    """All of the (small) file open at ``fd``, from its start: one read where the size is right
    (asking for one byte more than ``size`` and getting ``size`` is the end of the file)."""
    data = os.pread(fd, size + 1, 0)
    if len(data) != size:  # it grew, or shrank (or a read cut short): read on until the end
        parts = [data]
        while chunk := os.pread(fd, 1 << 20, sum(map(len, parts))):
            parts.append(chunk)
        data = b"".join(parts)
    return data


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (a write may take only part of it; one that takes nothing,
    and says no error, is EIO: trying again would loop forever)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if not n:
            raise OSError(errno.EIO, f"{os.strerror(errno.EIO)}: a write took none of {len(view)} bytes")
        view = view[n:]


def corrupt(expected: str, actual: str, src: str, what: str) -> CorruptObjectError:
    """The error for stored bytes that do not hash to their digest (``what`` names the destination)."""
    return CorruptObjectError(
        f"refusing to hand over {what}: its stored content {src!r} is corrupt (expected {expected}, "
        f"its bytes hash to {actual}); nothing was handed over: restore it from a remote "
        "(artvcs pull) or run artvcs fsck"
    )


def copy_verified(src_fd: int, dst_fd: int, expected: str, src: str, what: str,
                  stop: threading.Event | None = None) -> int:
    """Copy the stored object open at ``src_fd`` into the empty ``dst_fd``, hashing it on the
    way; return its size. A digest other than ``expected`` raises CorruptObjectError: for a small
    object before anything is written (it is read whole, hashed, then written), for a large one
    after the copy (hashed from the copy itself, beside the kernel's copy; the caller removes it).
    ``dst_fd`` must be open for reading too. ``src`` and ``what`` (the destination) name the error;
    ``stop`` ends a large copy early (see :func:`copy_and_hash`)."""
    size = os.fstat(src_fd).st_size
    if size >= MMAP_THRESHOLD:  # (not preallocated: the kernel's copy may share blocks, see preallocate)
        actual, n = copy_and_hash(src_fd, dst_fd, writeback=False, stop=stop)
        if actual != expected:
            raise corrupt(expected, actual, src, what)
        return n
    data = read_all(src_fd, size)
    actual = blake3.blake3(data).hexdigest()
    if actual != expected:
        raise corrupt(expected, actual, src, what)
    write_all(dst_fd, data)
    return len(data)


def read_small_verified(src: str, expected: str, size: int, what: str) -> bytes | None:
    """The bytes of the small stored object ``src`` (``size`` bytes by its manifest, below
    MMAP_THRESHOLD), verified; None when it holds more than ``size`` bytes (the caller copies it
    the general way). ``what`` names the destination in an error.

    One open and one read: no fstat, as the manifest's size bounds the read (a store file that
    disagrees is caught by the hash, or sent back). The caller writes the bytes only once they
    matched, so a mismatch (CorruptObjectError) leaves nothing anywhere. A checkout of many small
    files does the same a batch at a time (:mod:`copybatch`) and sends here each file that does
    not go the plain way, and every file where the C batches are not built.
    """
    sfd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.pread(sfd, size + 1, 0)
        if len(data) > size:
            return None
        if not holds(data, size, expected):
            data = read_all(sfd, size)  # a short read is not taken for corruption: read to the end
            actual = blake3.blake3(data).hexdigest()
            if actual != expected:
                raise corrupt(expected, actual, src, what)
            if len(data) >= MMAP_THRESHOLD:
                return None
        return data
    finally:
        os.close(sfd)


def holds(data: bytes, size: int, digest: str) -> bool:
    """Whether ``data`` (read whole, with one byte more asked for) is the ``size`` bytes of ``digest``:
    the check of a small copy, here and in a checkout's batches (:mod:`copybatch`)."""
    return len(data) == size and blake3.blake3(data).hexdigest() == digest


def hash_verified(fd: int, expected: str, src: str, what: str) -> None:
    """Hash the stored object open at ``fd`` (a link or reflink about to share it, or bytes about to
    be streamed from it); CorruptObjectError unless it hashes to ``expected``."""
    size = os.fstat(fd).st_size
    if size >= MMAP_THRESHOLD:
        h = blake3.blake3(max_threads=blake3.blake3.AUTO)
        with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as m:
            h.update(m)
        actual = h.hexdigest()
    else:
        actual = blake3.blake3(read_all(fd, size)).hexdigest()
    if actual != expected:
        raise corrupt(expected, actual, src, what)
