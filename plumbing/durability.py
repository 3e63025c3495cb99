"""Making written files survive a power cut, cheaply.

Content files are renamed into place without a per-file fsync; before a ref
makes them reachable, one ``syncfs`` flushes the whole file system the
repository lives on. That is one system call per version instead of one
fsync per file, which matters for 20,000 small files. Large files start
their own writeback while they are being copied (``start_writeback``), so
that flush finds little left to write.
"""
from __future__ import annotations

import os

_libc = None
_sfr = None
SYNC_FILE_RANGE_WRITE = 2


def _load_libc():
    global _libc
    if _libc is None:
        import ctypes.util  # here, not at import: a process that never flushes needs no ctypes

        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        except OSError:
            _libc = False
    return _libc


def _syncfs_fn():
    libc = _load_libc()
    return getattr(libc, "syncfs", None) if libc else None


ENV = "ARTVCS_FSYNC"


def enabled() -> bool:
    """False when ``ARTVCS_FSYNC=0`` leaves durability to the OS."""
    return os.environ.get(ENV) != "0"


def start_writeback(fd: int, offset: int, nbytes: int) -> None:
    """Ask the kernel to start writing ``nbytes`` at ``offset`` of ``fd`` to disk, without waiting
    (sync_file_range(2) SYNC_FILE_RANGE_WRITE). Only a head start for the flush that follows:
    it promises nothing, so where it is missing nothing is done."""
    global _sfr
    if _sfr is None:
        libc = _load_libc()
        fn = getattr(libc, "sync_file_range", None) if libc else None
        if fn is not None:
            import ctypes

            fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
            fn.restype = ctypes.c_int
        _sfr = fn or False
    if _sfr:
        _sfr(fd, offset, nbytes, SYNC_FILE_RANGE_WRITE)


def sync_filesystem(path: str) -> None:
    """Flush every dirty page of the file system holding ``path`` to disk.

    ``ARTVCS_FSYNC=0`` skips it (like git's core.fsync=none): a killed
    process still loses nothing, a power cut may lose the newest versions.
    """
    if not enabled():
        return
    fn = _syncfs_fn()
    if fn is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if fn(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def fsync_dir(path: str) -> None:
    """fsync a directory so a rename inside it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
