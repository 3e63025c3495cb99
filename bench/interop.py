"""W&B export benchmark: ``artvcs export --format wandb`` beside the limits it cannot beat.

Usage: python bench/interop.py [--files N] [--size BYTES] [--large MIB] [--runs K] [--work DIR]

Two data sets, generated deterministically: --files small files (default
2,000 of 1-16 KiB) and one --large MiB file (default 512). For each, in the
same run and on the same bytes: the export (copy out of the store, verified,
plus an MD5 per file and the two JSON files), ``cp -a`` of the source folder
(the cost of writing the files), and MD5 of the source files with hashlib
(the cost of the digests W&B needs). The export cannot be faster than the
larger of the two and should be near their sum. Each figure is the median of
--runs runs; speed is reported, never asserted.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import time


def _median(fn, runs: int, setup=None) -> float:
    times = []
    for _ in range(runs):
        if setup is not None:
            setup()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _make(root: str, files: int, size: int, large_mib: int) -> tuple[str, str]:
    rnd = random.Random(7)
    small, large = os.path.join(root, "small"), os.path.join(root, "large")
    if not os.path.isdir(small):
        for i in range(files):
            folder = os.path.join(small, f"d{i % 20:02d}")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"f{i:05d}.bin"), "wb") as f:
                f.write(rnd.randbytes(rnd.randint(1024, size)))
    if not os.path.isdir(large):
        os.makedirs(large)
        with open(os.path.join(large, "big.bin"), "wb") as f:
            block = rnd.randbytes(1 << 20)
            for i in range(large_mib):
                f.write(block[i % 64:] + block[: i % 64])
    return small, large


def _md5_tree(root: str) -> None:
    for d, _, fs in os.walk(root):
        for name in fs:
            h = hashlib.md5()
            with open(os.path.join(d, name), "rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--size", type=int, default=16 * 1024)
    ap.add_argument("--large", type=int, default=512, help="MiB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(".", "bench-work", "interop"))
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    small, large = _make(os.path.join(work, "data"), args.files, args.size, args.large)
    repo = os.path.join(work, "repo")
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)
    cli = os.path.join(os.path.dirname(sys.executable), "artvcs")
    env = {**os.environ, "ARTVCS_DIR": os.path.join(repo, ".artifacts")}
    subprocess.run([cli, "init", "--entity", "bench", "--project", "interop", repo], check=True, capture_output=True)
    out = os.path.join(work, "out")
    print(f"{'data':<28}{'export':>10}{'cp -a':>10}{'md5':>10}{'export/(cp+md5)':>18}{'MB/s':>8}")
    for label, src in ((f"{args.files} small files", small), (f"1 file of {args.large} MiB", large)):
        name = "small" if src == small else "large"
        subprocess.run([cli, "log", src, "--name", name, "--type", "dataset"], check=True, capture_output=True, env=env)
        nbytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src) for f in fs)

        def clean() -> None:
            shutil.rmtree(out, ignore_errors=True)

        t_export = _median(lambda: subprocess.run([cli, "export", "--format", "wandb", f"{name}:v0", out],
                                                  check=True, capture_output=True, env=env), args.runs, clean)
        t_cp = _median(lambda: subprocess.run(["cp", "-a", src, out], check=True), args.runs, clean)
        t_md5 = _median(lambda: _md5_tree(src), args.runs)
        clean()
        print(f"{label:<28}{t_export:>9.3f}s{t_cp:>9.3f}s{t_md5:>9.3f}s{t_export / (t_cp + t_md5):>17.2f}x"
              f"{nbytes / t_export / 1e6:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
