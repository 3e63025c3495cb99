"""What making a re-log's new files durable costs, by the ways there are, on this machine, now.

A re-log after a 1 % edit writes about 400 small files. Before the version
ref names them they must be on disk. ``syncfs`` (what artvcs does, see
plumbing/durability.py) is one call, but it flushes every dirty page of the
file system, other processes' too; ``fdatasync`` of each new file and an
``fsync`` of each folder touched flushes only those, one call each, in turn
or from many threads at once (so that the file system's journal commits
them together). Each way runs on a fresh set of files, round-robin, with
another process's dirty data beside them or not (200 MiB written just
before, as a shared machine has).

Usage: python bench/durability.py [WORK] [RUNS]   (files go under WORK/durability, then are removed)
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _write(folder: str, files: int, size: int) -> list[str]:
    paths = []
    for i in range(files):
        d = os.path.join(folder, f"{i % 64:02x}")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"f{i}")
        with open(p, "wb") as f:
            f.write(os.urandom(size))
        paths.append(p)
    return paths


def _sync_fd(path: str, dir_: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd) if dir_ else os.fdatasync(fd)
    finally:
        os.close(fd)


def syncfs(paths: list[str]) -> None:
    fd = os.open(os.path.dirname(paths[0]), os.O_RDONLY)
    try:
        _libc.syncfs(fd)
    finally:
        os.close(fd)


def each(paths: list[str]) -> None:
    for p in paths:
        _sync_fd(p)
    for d in sorted({os.path.dirname(p) for p in paths}):
        _sync_fd(d, True)


def threads(paths: list[str], n: int = 16) -> None:
    dirs = sorted({os.path.dirname(p) for p in paths})
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(_sync_fd, paths))
        list(pool.map(lambda d: _sync_fd(d, True), dirs))


WAYS = {"syncfs": syncfs, "fdatasync each, in turn": each, "fdatasync each, 16 threads": threads}


def measure(work: str, runs: int, files: int = 400, size: int = 8192, dirty_mib: int = 0) -> dict[str, list[float]]:
    """``{way: [seconds per run]}``; every run writes fresh files (and, with ``dirty_mib``, that
    much of another file left dirty) and times only the flush."""
    out: dict[str, list[float]] = {w: [] for w in WAYS}
    for r in range(runs):
        for name, fn in WAYS.items():
            folder = os.path.join(work, "durability", f"{r}-{len(out[name])}-{name[:6]}")
            shutil.rmtree(folder, ignore_errors=True)
            os.sync()
            paths = _write(folder, files, size)
            if dirty_mib:
                with open(os.path.join(folder, "other-process"), "wb") as f:
                    chunk = os.urandom(1 << 20)
                    for _ in range(dirty_mib):
                        f.write(chunk)
            t = time.perf_counter()
            fn(paths)
            out[name].append(time.perf_counter() - t)
            shutil.rmtree(folder, ignore_errors=True)
    return out


def main() -> int:
    work = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.getcwd(), "bench-work")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for dirty in (0, 200):
        res = measure(work, runs, dirty_mib=dirty)
        print(f"\n400 files of 8 KiB made durable{f', with {dirty} MiB of another file dirty' if dirty else ''} "
              f"(median of {runs}, seconds)")
        for name, secs in res.items():
            print(f"  {name:28} {statistics.median(secs):7.3f}   min {min(secs):.3f}  max {max(secs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
