"""Recording a checkout's verified copies in the stat cache, so that the next look at them is a stat each.

:class:`Recorder` hands each batch of written files to the cache and writes it out on a thread
of its own while the checkout writes the next batch; :func:`record_written` is the record of
one batch, under the racy rule (see its docstring).
"""
from __future__ import annotations

import os
import threading

from .checkplan import _File
from .statcache import StatCache, fs_clock_ns


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

    def record(self, files: list[_File], stats: list[os.stat_result | None]) -> None:
        if self.statcache is None or not any(stats):  # (links: nothing to record, no thread to start)
            return
        self._wait()
        if self._error is not None:  # the cache failed: nothing more goes to it (join raises the error)
            return
        record_written(self.statcache, files, stats)
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


def record_written(statcache: StatCache, writes: list[_File], stats: list) -> None:
    """Record the copies just written, so that the next checkout, status or verify is a stat per file.

    Each stat (an os.stat_result, or the batches' stat key tuple) was taken
    when its file was complete (after the last write, or after the rename and
    unchanged since); the clock is read after all of them. The racy rule then
    trusts a record only while the file's stamps are older than that reading:
    an edit after it stamps the file anew, so its stat no longer matches.
    Links are not recorded: a hard link is judged by its inode, a symbolic
    link by its target.
    """
    if not any(stats):
        return
    now, dev = fs_clock_ns(os.path.dirname(statcache.db_path))
    statcache.record_written(((f.target, st, f.entry.digest) for f, st in zip(writes, stats) if st is not None), now, dev)
