"""artvcs pack-index benchmark: what finding a chunked file's chunks costs beside N chunk packs, with and
without the multi-pack index (chunks/multi-pack-index).

Usage: python bench/packindex.py [--packs 16,256,1600] [--size BYTES] [--runs N] [--work DIR]
(also run by ``python bench/chunks.py --pack-index``, as its section 6).

A repository gets one real chunked file of --size random bytes (logged through the store: its own
packs), then synthetic packs beside it up to N: each a real pack index of 64 MiB worth of rows
(random digests, sizes averaging 40 KiB, as the cutter makes) and a sparse pack file of that size.
For each N, round-robin, median of --runs, in this process:

- one pack index read (open, read, parse): the unit cost that every chunked command paid per pack;
- setup: open the local packs and find every chunk of the file (what a checkout does before it
  copies), without the index (every pack index read: the code before it) and with it;
- checkout: the whole chunked checkout of the file (rebuilt and hashed), without and with the
  index, beside ``cp`` of the same bytes (the limit the checkout target is set against);
- log lookups: finding 27,000 absent digests (the chunks of a new 1 GiB file) with and without it;
- the index itself: its size, a full rebuild of it from every pack's rows, and opening it (its
  checksum hashed) beside raw blake3 of the same bytes.

Speed is reported, never asserted.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

import blake3

MiB = 1 << 20
HERE = os.path.abspath(__file__)
ROWS = 1700  # a 64 MiB pack of ~40 KiB chunks


@contextlib.contextmanager
def without_index():
    """The code path before the multi-pack index: every pack's index read, none written."""
    from artvcs.plumbing import chunkmidx, chunkpacks

    real_open, real_fold = chunkmidx.open_index, chunkpacks.LocalPacks.fold
    chunkmidx.open_index = lambda folder: None
    chunkpacks.LocalPacks.fold = lambda self: False
    try:
        yield
    finally:
        chunkmidx.open_index, chunkpacks.LocalPacks.fold = real_open, real_fold


def synth_pack(folder: str, rnd: random.Random) -> None:
    from artvcs.plumbing import chunkpacks

    rows = [(rnd.randbytes(32).hex(), rnd.randint(8192, 73728)) for _ in range(ROWS)]
    data = chunkpacks.encode_idx(rows)
    name = chunkpacks.idx_name(data)
    with open(os.path.join(folder, f"{name}.pack"), "wb") as f:
        f.truncate(sum(n for _, n in rows))  # sparse: the bytes are never read
    with open(os.path.join(folder, f"{name}.idx"), "wb") as f:
        f.write(data)


def setup(repo_dir: str, size: int) -> tuple[object, str, str]:
    from artvcs.plumbing.repository import init_repository

    os.makedirs(repo_dir)
    repo = init_repository(repo_dir)
    src = os.path.join(repo_dir, "big.bin")
    rnd = random.Random(7)
    with open(src, "wb") as f:
        for _ in range(size // (8 * MiB)):
            f.write(rnd.randbytes(8 * MiB))
    digest, _ = repo.store.put_file(src, chunked=True)
    return repo, digest, src


def grow(folder: str, packs: int, rnd: random.Random) -> None:
    """Add synthetic packs until ``folder`` holds ``packs``."""
    have = sum(1 for n in os.listdir(folder) if n.endswith(".idx"))
    for _ in range(packs - have):
        synth_pack(folder, rnd)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(repo, digest: str, src: str, work: str) -> dict[str, float]:
    """One round of every row at the current number of packs."""
    from artvcs.plumbing import chunkmidx, chunkpacks, chunkstore

    folder = chunkstore.packs_dir(repo.store)
    lst = chunkstore.read_list(repo.store, digest)
    digests = [d for d, _ in lst.chunks]
    absent = [random.Random(3).randbytes(32).hex() for _ in range(27_000)]
    one = next(n[:-4] for n in sorted(os.listdir(folder)) if n.endswith(".idx"))

    def read_one():
        with open(os.path.join(folder, f"{one}.idx"), "rb") as f:
            chunkpacks.parse_idx(f.read(), one)

    def find_all():
        packs = chunkstore.local_packs(repo.store)
        try:
            for d in digests:
                assert packs.where.place(d) is not None
        finally:
            packs.close()

    def lookups():
        packs = chunkstore.local_packs(repo.store)
        try:
            t = time.perf_counter()
            for d in absent:
                packs.where.place(d)
            return time.perf_counter() - t
        finally:
            packs.close()

    out_path = os.path.join(work, "out.bin")

    def checkout():
        with open(out_path, "w+b") as f:
            chunkstore.write_chunked(repo.store, digest, f.fileno())
        os.unlink(out_path)

    def cp():
        subprocess.run(["cp", src, out_path], check=True)
        os.unlink(out_path)

    def rebuild():
        packs = chunkpacks.LocalPacks(folder, shared_lock=False, every_index=True)
        try:
            return chunkmidx.encode(sorted(packs.packs.items()))
        finally:
            packs.close()

    r: dict[str, float] = {}
    r["one index"] = timed(read_one)
    with without_index():
        r["setup before"] = timed(find_all)
        r["checkout before"] = timed(checkout)
        r["lookups before"] = lookups()
    find_all()  # writes the index if the packs outside it call for it (not timed)
    r["setup after"] = timed(find_all)
    r["checkout after"] = timed(checkout)
    r["lookups after"] = lookups()
    r["cp"] = timed(cp)
    t = time.perf_counter()
    data = rebuild()
    r["rebuild"] = time.perf_counter() - t
    r["index bytes"] = len(data)
    r["open index"] = timed(lambda: chunkmidx.open_index(folder).close())
    r["blake3 of it"] = timed(lambda: blake3.blake3(data, max_threads=blake3.blake3.AUTO).digest())
    return r


def run(work: str, counts: list[int], size: int, runs: int) -> dict[int, dict[str, float]]:
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from artvcs.plumbing import chunkstore

    repo_dir = os.path.join(work, "packindex")
    shutil.rmtree(repo_dir, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    repo, digest, src = setup(repo_dir, size)
    folder = chunkstore.packs_dir(repo.store)
    rnd = random.Random(11)
    out: dict[int, dict[str, float]] = {}
    try:
        for n in counts:
            grow(folder, n, rnd)
            rounds = [measure(repo, digest, src, work) for _ in range(runs)]
            out[n] = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    finally:
        repo.close()
        shutil.rmtree(repo_dir, ignore_errors=True)
    return out


def report(res: dict[int, dict[str, float]], size: int, runs: int) -> None:
    print(f"6. pack index: finding a {size // MiB} MiB chunked file's chunks beside N packs of 64 MiB "
          f"(median of {runs}; ms)")
    print("   packs  one idx  setup before  setup after  after/before  after/one idx   checkout before  after  "
          "after/cp   27k lookups before  after   index MiB  rebuild  open  (blake3 of it)")
    for n, r in res.items():
        ms = {k: v * 1000 for k, v in r.items()}
        print(f"   {n:5d}  {ms['one index']:7.2f}  {ms['setup before']:12.1f}  {ms['setup after']:11.1f}  "
              f"{r['setup after'] / r['setup before']:11.3f}x  {r['setup after'] / r['one index']:12.1f}x   "
              f"{ms['checkout before']:15.1f}  {ms['checkout after']:5.1f}  {r['checkout after'] / r['cp']:7.2f}x   "
              f"{ms['lookups before']:18.1f}  {ms['lookups after']:5.1f}   {r['index bytes'] / MiB:9.1f}  "
              f"{ms['rebuild']:7.0f}  {ms['open index']:4.1f}  ({ms['blake3 of it']:.1f})")
    print("   (before: every pack index read, the code before the multi-pack index; cp of the same file: "
          + ", ".join(f"{r['cp'] * 1000:.1f}" for r in res.values()) + " ms)\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packs", default="16,256,1600")
    ap.add_argument("--size", type=int, default=64 * MiB)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(os.getcwd(), "bench-work", "packindex"))
    a = ap.parse_args()
    counts = sorted(int(x) for x in a.packs.split(","))
    report(run(os.path.abspath(a.work), counts, a.size, a.runs), a.size, a.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
