"""Before/after of round 11's trust work, in the same rounds: verify and status of a checked-out folder
(the link check: one listing per folder) and a long diff (every line through the escaping output edge),
each beside ``du -sb`` of the folder (one lstat per file, the floor of looking at every file).

    python bench/trust_ab.py --before /work/main/.venv/bin/artvcs --after .venv/bin/artvcs [--files 20000] [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def timed(cmd: list[str], cwd: str, env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="trust-ab-")
    env = {**os.environ, "ARTVCS_DISABLE_SERVER": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proj, data = os.path.join(work, "proj"), os.path.join(work, "proj", "data")
    try:
        def write(tag: str) -> None:
            for i in range(a.files):
                d = os.path.join(data, f"d{i % 200:03d}")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, f"f{i:06d}.txt"), "w") as f:
                    f.write(f"{tag} {i}\n")

        after = os.path.abspath(a.after)
        subprocess.run([after, "init"], cwd=proj if os.path.isdir(proj) else os.makedirs(proj) or proj, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        for tag in ("zero", "one"):
            write(tag)
            subprocess.run([after, "log", "data", "--name", "ds", "--type", "dataset"], cwd=proj, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = os.path.join(work, "out")
        subprocess.run([after, "checkout", "ds:v1", out], cwd=proj, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        ops = {"verify ds:v1 out": ["verify", "ds:v1", out], "status out": ["status", out],
               f"diff ds:v0 ds:v1 ({a.files} lines)": ["diff", "ds:v0", "ds:v1"]}
        times: dict[tuple[str, str], list[float]] = {}
        floor = []
        for _ in range(a.runs):
            floor.append(timed(["du", "-sb", out], proj, env))
            for name, args in ops.items():
                for side, exe in (("before", a.before), ("after", after)):
                    times.setdefault((name, side), []).append(timed([exe, *args], proj, env))
        limit = statistics.median(floor)
        print(f"{a.files} files in 200 folders, {a.runs} rounds, medians; du -sb out: {limit * 1000:.0f} ms")
        for name in ops:
            b, f = statistics.median(times[(name, "before")]), statistics.median(times[(name, "after")])
            print(f"{name:34} before {b * 1000:7.0f} ms  after {f * 1000:7.0f} ms  after/before {f / b:5.2f}"
                  f"  after/du {f / limit:6.1f}")
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
