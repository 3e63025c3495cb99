"""Distributed artifacts: the cost of ``Run.upsert_artifact`` beside ``Run.log_artifact`` of the same files.

Each round, in a fresh repository: N one-file upserts into one draft (then its finish), and N
one-file logs (each a version of another collection), alternating which goes first; then the
same N upserts split over P processes at once. Printed: medians over the rounds, and the
ratios upsert ÷ log (same rounds) and P processes ÷ 1 (CAS retries must not make writers wait
on each other more than the work itself).

    .venv/bin/python bench/distributed.py [--ops 100] [--procs 4] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

WORKER = """
    import os, sys, time
    import artvcs
    what, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    run = artvcs.init(group="bench")
    t0 = time.perf_counter()
    for i in range(first, first + count):
        path = os.path.join("files", f"f{i}.txt")
        art = artvcs.Artifact("dist" if what == "upsert" else f"c{i}", "dataset")
        art.add_file(path, name=f"w{first}/f{i}.txt")
        (run.upsert_artifact if what == "upsert" else run.log_artifact)(art)
    print(time.perf_counter() - t0)
    run.finish()
"""


def _repo(base: str, ops: int) -> str:
    root = tempfile.mkdtemp(dir=base)
    os.makedirs(os.path.join(root, "files"))
    for i in range(ops):
        with open(os.path.join(root, "files", f"f{i}.txt"), "w") as f:
            f.write(f"file {i}\n" * 10)
    subprocess.run([sys.executable, "-c", "import artvcs; artvcs.init(project='b', entity='me').finish()"],
                   cwd=root, check=True, capture_output=True)
    return root


def _run(root: str, what: str, first: int, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, os.path.join(root, "worker.py"), what, str(first), str(count)],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wall(root: str, what: str, ops: int, procs: int) -> float:
    each = ops // procs
    t0 = time.perf_counter()
    ps = [_run(root, what, p * each, each) for p in range(procs)]
    for p in ps:
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(err)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=100)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="artvcs-bench-dist-")
    rows: dict[str, list[float]] = {"log": [], "upsert": [], "upsert, P procs": []}
    try:
        for r in range(a.rounds):
            order = ["log", "upsert"] if r % 2 == 0 else ["upsert", "log"]
            for what in order:
                root = _repo(base, a.ops)
                with open(os.path.join(root, "worker.py"), "w") as f:
                    f.write(textwrap.dedent(WORKER))
                rows[what].append(_wall(root, what, a.ops, 1))
                if what == "upsert":
                    root2 = _repo(base, a.ops)
                    shutil.copy(os.path.join(root, "worker.py"), root2)
                    rows["upsert, P procs"].append(_wall(root2, "upsert", a.ops, a.procs))
                shutil.rmtree(root)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{a.ops} one-file operations, {a.rounds} rounds, whole processes (start-up included)")
    for k, v in rows.items():
        print(f"{k:<18} median {med[k]:.3f} s  ({min(v):.3f}–{max(v):.3f})  {1000 * med[k] / a.ops:.1f} ms/op")
    print(f"upsert ÷ log            {med['upsert'] / med['log']:.2f}×  (same rounds)")
    print(f"{a.procs} procs ÷ 1 proc (upsert) {med['upsert, P procs'] / med['upsert']:.2f}×")


if __name__ == "__main__":
    main()
