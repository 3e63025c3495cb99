"""Named pause points of push and remote gc, for tests that interleave the two step by step.

When ``ARTVCS_TEST_STEPS`` names a folder, :func:`step` writes ``<n>-<name>``
there (``n`` counts this process's steps from 0) and waits until ``<n>-go``
appears, so that a test can release two real processes in any order it
chooses (tests/remote/test_remote_push_gc_race.py). Unset, it does nothing.
"""
from __future__ import annotations

import itertools
import os
import time

ENV = "ARTVCS_TEST_STEPS"
_count = itertools.count()


def step(name: str) -> None:
    """Pause at ``name`` while a test holds this process there (nothing outside such tests)."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    n = next(_count)
    tmp = os.path.join(folder, f".{n}-{name}.tmp")
    with open(tmp, "w"):
        pass
    os.replace(tmp, os.path.join(folder, f"{n}-{name}"))
    go = os.path.join(folder, f"{n}-go")
    deadline = time.monotonic() + 600
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            raise TimeoutError(f"step {name}: not released within 600 s")
        time.sleep(0.002)
