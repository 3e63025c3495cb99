"""Progress of long operations, reported to whoever asked for it (the CLI's progress bar).

The library never prints: a caller installs a callback with :func:`reporting`
and long loops call :func:`report`. A context variable keeps concurrent
callers apart.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

Reporter = Callable[[str, int, int], None]  # (stage, done, total)
_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("artvcs_progress", default=None)


def report(stage: str, done: int, total: int) -> None:
    fn = _reporter.get()
    if fn is not None:
        fn(stage, done, total)


@contextlib.contextmanager
def reporting(fn: Reporter | None) -> Iterator[None]:
    token = _reporter.set(fn)
    try:
        yield
    finally:
        _reporter.reset(token)
