"""Recording a checkout's verified copies in the stat cache, so that the next look at them is a stat each.

:class:`Recorder` hands each batch of written files to the cache and writes it out on a thread
of its own while the checkout writes the next batch; :func:`record_written` is the record of
one batch, under the racy rule (see its docstring); :func:`recheck_racy` records the few copies
that rule left out (stamped in the clock's last tick) once the clock has moved on.
"""
from __future__ import annotations

import os
import stat as _stat
import threading
import time

import blake3

from .checkplan import _File
from .statcache import Key, StatCache, fs_clock_ns, stat_key

# How long a checkout waits, at most, for the file system's clock to leave the tick its last
# copies were stamped in (one jiffy, ~4 ms, on Linux): past it, they are left to the next look.
RACY_WAIT_S = 0.05
# The racily clean copies hashed again at the end are at most this many bytes in all (a few
# small files each batch: hashing a large one again would cost more than the next look saves).
RECHECK_BYTES = 64 << 20


class Recorder:
    """Records each batch's verified copies in the stat cache and writes them out on a thread of
    its own while the next batch is written (the flush is Python and sqlite, the writing mostly
    system calls that let other threads run). One flush at a time, and no other thread touches
    the cache meanwhile: :meth:`record` waits for the previous flush before queueing more. A
    flush's error stops the recording, not the writing: :meth:`join` raises it at the end."""

    def __init__(self, statcache: StatCache | None) -> None:
        self.statcache = statcache
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._racy: list[tuple[str, Key, str]] = []  # left out by the racy rule: see finish

    def record(self, files: list[_File], stats: list[os.stat_result | None]) -> None:
        if self.statcache is None or not any(stats):  # (links: nothing to record, no thread to start)
            return
        self._wait()
        if self._error is not None:  # the cache failed: nothing more goes to it (join raises the error)
            return
        self._racy += record_written(self.statcache, files, stats)
        self._thread = threading.Thread(target=self._flush, daemon=True)
        self._thread.start()

    def _flush(self) -> None:
        try:
            self.statcache.flush()
        except BaseException as e:  # raised by join, in the caller's thread
            self._error = e

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def join(self) -> None:
        """Wait for the flush under way; the first error of any flush is raised here, once the
        checkout's writing is over (a failed write raises its own error first)."""
        self._wait()
        if self._error is not None:
            e, self._error = self._error, None
            raise e

    def finish(self) -> None:
        """:meth:`join`, then record the copies the racy rule left out (:func:`recheck_racy`):
        the checkout's writing is over, and the next look at its folder is then a stat per file."""
        self.join()
        racy, self._racy = self._racy, []
        if racy and self.statcache is not None and recheck_racy(self.statcache, racy):
            self.statcache.flush()


def record_written(statcache: StatCache, writes: list[_File], stats: list) -> list[tuple[str, Key, str]]:
    """Record the copies just written, so that the next checkout, status or verify is a stat per file.

    Each stat (an os.stat_result, or the batches' stat key tuple) was taken
    when its file was complete (after the last write, or after the rename and
    unchanged since); the clock is read after all of them. The racy rule then
    trusts a record only while the file's stamps are older than that reading:
    an edit after it stamps the file anew, so its stat no longer matches.
    Links are not recorded: a hard link is judged by its inode, a symbolic
    link by its target. Returns the ``(path, stat key, digest)`` of the
    copies left out as racily clean (stamped in the tick of that reading).
    """
    if not any(stats):
        return []
    now, dev = fs_clock_ns(os.path.dirname(statcache.db_path))
    return statcache.record_written(((f.target, st, f.entry.digest) for f, st in zip(writes, stats) if st is not None), now, dev)


def recheck_racy(statcache: StatCache, racy: list[tuple[str, Key, str]]) -> int:
    """Hash again the copies ``racy`` (``(path, stat key when complete, digest)``) that the racy rule
    left out, once the clock of the cache's file system has moved past their stamps, and queue a
    record of each that still has that stat; how many were queued.

    The clock is read (``now``) before any of them is read, and each is opened, fstat-ed, read and
    fstat-ed again: a record is queued only when both fstats are the stat taken when the copy was
    complete and its stamps are older than ``now``. An edit before ``now`` is in the bytes read
    (and in their digest); one after it stamps the file at ``now`` or later, so its stat no longer
    matches the record. Copies on another file system (whose stamps come from another clock), or
    more than RECHECK_BYTES of them, or a clock that does not move within RACY_WAIT_S, are left
    to the next look, as before.
    """
    folder = os.path.dirname(statcache.db_path)
    newest = max(max(k[3], k[4]) for _, k, _ in racy)
    deadline = time.monotonic() + RACY_WAIT_S
    while True:
        now, dev = fs_clock_ns(folder)
        if dev is None:
            return 0  # the local clock: the 1 s margin of another clock applies, not worth a wait
        if now > newest:
            break
        if time.monotonic() > deadline:
            return 0
        time.sleep(0.001)
    todo = [r for r in racy if r[1][0] == dev]
    if sum(k[2] for _, k, _ in todo) > RECHECK_BYTES:
        return 0
    queued = 0
    for path, key, _ in todo:
        got = _hash_unchanged(path, key)
        if got is not None:
            st, digest = got
            statcache.record(path, st, digest, now, dev)
            queued += 1
    return queued


def _hash_unchanged(path: str, key: Key) -> tuple[os.stat_result, str] | None:
    """``(fstat, digest)`` of the regular file ``path`` when its fstat before and after reading it
    is ``key``; None otherwise (changed, replaced, gone: the next look hashes it)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not _stat.S_ISREG(st.st_mode) or stat_key(st) != key:
            return None
        h = blake3.blake3()
        left = st.st_size
        while left > 0:
            data = os.read(fd, min(left, 1 << 20))
            if not data:
                return None  # shorter than its stat said: changed
            h.update(data)
            left -= len(data)
        if os.read(fd, 1) or stat_key(os.fstat(fd)) != key:
            return None
        return st, h.hexdigest()
    except OSError:
        return None
    finally:
        os.close(fd)
