"""Copying a large file into the store and hashing the copy, in one overlapped pass.

The kernel copies one chunk (``copy_file_range``, no bytes through Python)
while blake3's threads hash the chunk before it, read back from the page
cache through a memory map of the *copy*. So the digest is always of the
bytes stored, never of a source that may still be changing, and the hash
costs little more than the copy. Writeback of each chunk is started as
soon as it is copied, so the flush before the version ref overlaps with the
copy instead of following it. With ``ARTVCS_FSYNC=0`` there is no flush to
get ahead of, and writeback is left to the kernel, as ``cp`` leaves it.
"""
from __future__ import annotations

import errno
import mmap
import os
import threading

import blake3

from . import durability

CHUNK = 64 * 1024 * 1024  # a multiple of mmap.ALLOCATIONGRANULARITY
READ_CHUNK = 8 * 1024 * 1024


class _Hasher(threading.Thread):
    """Hashes chunks of the destination, in order, while the caller copies the next."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.h = blake3.blake3(max_threads=blake3.blake3.AUTO)
        self._jobs: list[tuple[int, int] | None] = []
        self._cv = threading.Condition()
        self.error: BaseException | None = None

    def put(self, job: tuple[int, int] | None) -> None:
        with self._cv:
            self._jobs.append(job)
            self._cv.notify()

    def run(self) -> None:
        while True:
            with self._cv:
                while not self._jobs:
                    self._cv.wait()
                job = self._jobs.pop(0)
            if job is None or self.error is not None:
                if job is None:
                    return
                continue
            off, n = job
            try:
                with mmap.mmap(self.fd, n, offset=off, access=mmap.ACCESS_READ) as m:
                    self.h.update(m)
            except BaseException as e:  # reported to the caller by finish()
                self.error = e

    def finish(self) -> str:
        self.put(None)
        self.join()
        if self.error is not None:
            raise self.error
        return self.h.hexdigest()


def copy_and_hash(src_fd: int, dst_fd: int) -> tuple[str, int]:
    """Copy ``src_fd`` (from its start) into the empty ``dst_fd``; return ``(digest, size)`` of
    what was written. ``dst_fd`` must be open for reading too (the copy is hashed from it)."""
    hasher = _Hasher(dst_fd)
    hasher.start()
    off = 0
    ahead = durability.enabled()
    try:
        while True:
            n = _copy_chunk(src_fd, dst_fd, off)
            if n == 0:
                break
            if ahead:
                durability.start_writeback(dst_fd, off, n)
            hasher.put((off, n))
            off += n
            if n < CHUNK:
                break
    except BaseException:
        hasher.put(None)
        hasher.join()
        raise
    return hasher.finish(), off


def _copy_chunk(src_fd: int, dst_fd: int, off: int) -> int:
    """Copy up to CHUNK bytes at ``off``; fewer only at the end of the source."""
    done = 0
    try:
        while done < CHUNK:
            k = os.copy_file_range(src_fd, dst_fd, CHUNK - done, off + done, off + done)
            if k == 0:
                return done
            done += k
        return done
    except AttributeError:
        pass
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM):
            raise
    while done < CHUNK:  # no copy_file_range here: through a buffer
        buf = os.pread(src_fd, min(READ_CHUNK, CHUNK - done), off + done)
        if not buf:
            break
        view = memoryview(buf)
        pos = off + done
        while view:
            w = os.pwrite(dst_fd, view, pos)
            view, pos = view[w:], pos + w
        done += len(buf)
    return done
