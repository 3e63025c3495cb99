"""A lock held as an object in a store that offers create-only writes but no compare-and-swap.

This is the fallback of :class:`~.objstore.FsspecBackend` (S3, Azure and GCS
do compare-and-swap natively and never use it). The lock for ``key`` is
the object ``key.lock`` holding a random token, made by a create-only write,
so of two writers only one holds it. A lock older than ``stale`` seconds
(by the store's own clock) belongs to a dead writer and is broken, and the
breaking itself is exclusive: a breaker must first create ``key.lock.break-
<tag of the stale token>``, so of two writers that saw the same stale lock
only one removes it, and it checks that the lock still holds that token
first (tokens are never reused, so a lock taken meanwhile is never removed).

What it cannot give: a holder that pauses longer than ``stale`` seconds
(suspended, partitioned) can still write after its lock was broken, and
the write after the compare is unconditional. artvcs(1) says so.
"""
from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from .backend import read_bounded, tag_of

if TYPE_CHECKING:
    from .backend import Backend

LOCK_SUFFIX = ".lock"
BREAK_INFIX = ".lock.break-"
STALE_LOCK_SECONDS = 30.0
WAIT_SECONDS = 10.0
LOCK_LIMIT = 256  # a lock object: a clock reading and 32 hex characters


def is_lock_key(key: str) -> bool:
    """True for the lock and break-marker objects of this module (never listed as data)."""
    return key.endswith(LOCK_SUFFIX) or BREAK_INFIX in key


def _age(backend: Backend, key: str) -> float | None:
    st = backend.stat(key)
    if st is None or st.mtime is None:
        return None
    return time.time() - st.mtime


def acquire(backend: Backend, key: str, stale: float = STALE_LOCK_SECONDS, wait: float = WAIT_SECONDS) -> bytes | None:
    """Take the lock of ``key``: its token, or None if another writer kept it for ``wait`` seconds."""
    lock = key + LOCK_SUFFIX
    token = f"{time.time():.3f} {secrets.token_hex(16)}".encode()
    deadline = time.monotonic() + wait
    attempt = 0
    while True:
        if backend.create(lock, token):
            return token
        held = read_bounded(backend, lock, LOCK_LIMIT, "lock object")
        if held is not None:
            age = _age(backend, lock)
            if age is not None and age > stale:
                break_stale(backend, key, held[0], stale)
                continue
        if time.monotonic() > deadline:
            return None
        attempt += 1
        time.sleep(min(0.1, 0.005 * 2 ** min(attempt, 5)) * (0.5 + secrets.randbelow(100) / 100))


def break_stale(backend: Backend, key: str, stale_token: bytes, stale: float = STALE_LOCK_SECONDS) -> bool:
    """Remove the lock of ``key`` if it still holds ``stale_token``; only one breaker of a token acts. True if removed."""
    lock = key + LOCK_SUFFIX
    marker = f"{key}{BREAK_INFIX}{tag_of(stale_token)}"
    mine = secrets.token_hex(16).encode()
    if not backend.create(marker, mine):
        age = _age(backend, marker)
        if age is not None and age > stale:  # its breaker died between its steps
            backend.remove(marker)
        return False
    try:
        held = read_bounded(backend, lock, LOCK_LIMIT, "lock object")
        if held is None or held[0] != stale_token:
            return False  # already released or broken and taken again: not ours to remove
        backend.remove(lock)
        return True
    finally:
        backend.remove(marker)


def release(backend: Backend, key: str, token: bytes) -> None:
    """Drop the lock of ``key`` if it is still ours (a lock broken as stale belongs to someone else now)."""
    lock = key + LOCK_SUFFIX
    held = read_bounded(backend, lock, LOCK_LIMIT, "lock object")
    if held is not None and held[0] == token:
        backend.remove(lock)
