"""Making written files survive a power cut, cheaply.

Content files are renamed into place without a per-file fsync; before a ref
makes them reachable, one ``syncfs`` flushes the whole file system the
repository lives on. That is one system call per version instead of one
fsync per file, which matters for 20,000 small files.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

_libc = None


def _syncfs_fn():
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        except OSError:
            _libc = False
    return getattr(_libc, "syncfs", None) if _libc else None


ENV = "ARTVCS_FSYNC"


def sync_filesystem(path: str) -> None:
    """Flush every dirty page of the file system holding ``path`` to disk.

    ``ARTVCS_FSYNC=0`` skips it (like git's core.fsync=none): a killed
    process still loses nothing, a power cut may lose the newest versions.
    """
    if os.environ.get(ENV) == "0":
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
