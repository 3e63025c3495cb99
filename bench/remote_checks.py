"""What checking a remote's versions on arrival costs: the checks beside the clone that runs them.

Usage: python bench/remote_checks.py [--files N] [--versions V] [--work DIR] [--runs R]

Logs V versions of N small files (each version changes 1 % of them) into a repository under
--work (default ./bench-work/remote-checks, nothing written elsewhere), pushes them to a
file:// remote there, then, R times each, in this process:

- clone      the whole clone (packs fetched into quarantine, checked, installed; content fetched);
- checks     check_incoming alone over the same refs (bounded history walk, every manifest read,
             entry rules, duplicates, facts recomputed);
- read       the limit of the checks: reading every entry of the same manifests (iter_entries),
             which any reader of a version pays anyway;
- cp -a      copying the remote folder (the limit of the clone's transfer).

Speed is reported, never asserted. Prints medians and the ratios checks/read and checks/clone.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--versions", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(os.getcwd(), "bench-work", "remote-checks"))
    args = ap.parse_args()
    os.environ.setdefault("ARTVCS_ENTITY", "me")
    os.environ.setdefault("ARTVCS_PROJECT", "proj")
    os.environ["ARTVCS_FSYNC"] = "0"

    import artvcs
    from artvcs.plumbing import refs, versions
    from artvcs.plumbing.manifest import iter_entries
    from artvcs.plumbing.remote.incoming import check_incoming
    from artvcs.plumbing.repository import init_repository
    from artvcs.sync import pushing, remotes, sync

    shutil.rmtree(args.work, ignore_errors=True)
    src, data, remote_dir = (os.path.join(args.work, n) for n in ("src", "src/data", "remote"))
    os.makedirs(data)
    repo = init_repository(src)
    url = f"file://{remote_dir}"
    remotes.add_remote(repo, "origin", url)
    for v in range(args.versions):
        for i in range(args.files):
            if v == 0 or i % 100 == v:
                folder = os.path.join(data, f"d{i % 200:03d}")
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, f"f{i:06d}.txt"), "w") as f:
                    f.write(f"file {i} version {v}\n" * 8)
        run = artvcs.init(dir=src, job_type="bench")
        art = artvcs.Artifact("ds", type="dataset")
        art.add_dir(data)
        run.log_artifact(art)
        run.finish()
    pushing.push(repo, remotes.open_remote(repo, "origin"))

    clones, checks, reads, copies = [], [], [], []
    for r in range(args.runs):
        target = os.path.join(args.work, f"clone{r}")
        clones.append(_time(lambda: sync.clone(url, target)))
        cloned = init_repository(target)
        view = {n: str(o) for n, o in refs.iter_refs(cloned.git, "refs/")
                if n.split("/")[1] in sync.OURS}
        checks.append(_time(lambda: check_incoming(cloned.git, view, {}, "bench")))
        manifests = {versions.read_version(cloned.git, o).manifest for n, o in view.items() if n.startswith("refs/versions/")}
        reads.append(_time(lambda: [None for m in manifests for _ in iter_entries(cloned.git, m)]))
        dest = os.path.join(args.work, f"copy{r}")
        copies.append(_time(lambda: subprocess.run(["cp", "-a", remote_dir, dest], check=True)))
        shutil.rmtree(target)
        shutil.rmtree(dest)

    med = {k: statistics.median(v) for k, v in (("clone", clones), ("checks", checks), ("read", reads), ("cp -a", copies))}
    print(f"{args.files} files x {args.versions} versions, {args.runs} runs, medians:")
    for k, v in med.items():
        print(f"  {k:7s} {v:8.3f} s")
    print(f"  checks / read  = {med['checks'] / med['read']:.2f}x   (the limit: reading the manifests)")
    print(f"  checks / clone = {med['checks'] / med['clone']:.2f}     (share of the clone)")
    print(f"  clone / cp -a  = {med['clone'] / med['cp -a']:.2f}x")
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
