"""A thread pool for remote requests: many small requests in flight at once, the first error wins."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..progress import report

WORKERS = 8
HEAD_LIMIT = 1000  # above this many candidates one listing of content/ is cheaper than a HEAD each


def parallel(fn: Callable, items: list, stage: str | None = None, workers: int = WORKERS) -> list:
    """``[fn(x) for x in items]`` on a thread pool; the first error cancels the rest and is raised."""
    if not items:
        return []
    if len(items) == 1:
        out = [fn(items[0])]
        if stage:
            report(stage, 1, 1)
        return out
    results: list = [None] * len(items)
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        futures = {pool.submit(fn, x): i for i, x in enumerate(items)}
        done = 0
        try:
            from concurrent.futures import as_completed

            for f in as_completed(futures):
                results[futures[f]] = f.result()
                done += 1
                if stage:
                    report(stage, done, len(items))
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return results
