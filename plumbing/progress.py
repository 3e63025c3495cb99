"""Progress of long operations, reported to whoever asked for it (the CLI's progress bar).

The library never prints: a caller installs a callback with :func:`reporting`
and long loops call :func:`report`. A context variable keeps concurrent
callers apart.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

# (stage, items done, items total, bytes done or None, bytes total or None); a total of 0: unknown
Reporter = Callable[[str, int, int, "int | None", "int | None"], None]
_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("artvcs_progress", default=None)


def report(stage: str, done: int, total: int, nbytes: int | None = None, total_bytes: int | None = None) -> None:
    """Tell the caller's reporter (if any) how far ``stage`` is: items and, where known, bytes."""
    fn = _reporter.get()
    if fn is not None:
        fn(stage, done, total, nbytes, total_bytes)


@contextlib.contextmanager
def reporting(fn: Reporter | None) -> Iterator[None]:
    """Send the reports of the work done inside the block to ``fn``."""
    token = _reporter.set(fn)
    try:
        yield
    finally:
        _reporter.reset(token)


class Tally:
    """Items of one stage done so far, and their bytes when ``size(item)`` says; reports as it counts.

    Work split over several loops (a first file written alone, then the rest in
    parallel) adds to one tally, so the stage counts up to its real total once.
    """

    def __init__(self, stage: str, items: list, size: Callable[[object], int | None] | None = None) -> None:
        self.stage, self.total, self.size = stage, len(items), size
        self.done, self.nbytes = 0, 0
        self.total_bytes = sum(size(x) or 0 for x in items) if size else None

    def add(self, part: list) -> None:
        self.done += len(part)
        if self.size:
            self.nbytes += sum(self.size(x) or 0 for x in part)
        report(self.stage, self.done, self.total, self.nbytes if self.size else None, self.total_bytes)
