"""A thread pool for remote requests: many small requests in flight at once, the first error wins."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..progress import report

WORKERS = 8
HEAD_LIMIT = 1000  # above this many candidates one listing of content/ is cheaper than a HEAD each


def parallel(fn: Callable, items: list, stage: str | None = None, workers: int = WORKERS) -> list:
    """``[fn(x) for x in items]`` on a thread pool; the first error cancels the rest and is raised.

    With ``stage``, progress is reported as items finish; results that are ints are byte counts.
    """
    if not items:
        return []
    if len(items) == 1:
        out = [fn(items[0])]
        if stage:
            report(stage, 1, 1, out[0] if type(out[0]) is int else None)
        return out
    results: list = [None] * len(items)
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        futures = {pool.submit(fn, x): i for i, x in enumerate(items)}
        done = nbytes = 0
        try:
            from concurrent.futures import as_completed

            for f in as_completed(futures):
                results[futures[f]] = got = f.result()
                done += 1
                nbytes += got if type(got) is int else 0
                if stage:
                    report(stage, done, len(items), nbytes)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return results
