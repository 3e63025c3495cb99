"""Benchmark of ``artvcs ui``: how long each page takes to render on a repository with a collection of
10,000 versions and a version of 1,000,000 entries (the issue's target: under 300 ms per page).

Usage: python bench/ui.py [--work DIR] [--versions N] [--entries N] [--runs N]

The repository is generated once under --work (default ./bench-work/ui; reused while its size
matches), then ``artvcs ui`` runs as a real process and each page is fetched over HTTP: the first
(cold: this process never read it) and the median of --runs more. Sorting by size needs every
version's facts: a child process of the server reads them at start (its time is printed too), and
that page comes last; a request before the child is done reads them itself. Beside them, the same run measures
the floor of the machine and server: fetching a static file (no repository read) over the same
connection. Speed is reported, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

ENTITY, PROJECT = "bench", "ui"


def build(root: str, n_versions: int, n_entries: int) -> None:
    """``many``: n_versions versions (aliases on some); ``huge``: v0 of n_entries entries (1,000 per folder,
    and one flat folder of 100,000 that the manifest splits into 256 listings), v1 with one entry changed."""
    os.environ["ARTVCS_ENTITY"], os.environ["ARTVCS_PROJECT"] = ENTITY, PROJECT
    from artvcs.core import aliases
    from artvcs.plumbing import manifest, versions
    from artvcs.plumbing.manifest import Entry
    from artvcs.plumbing.refs import CollectionId
    from artvcs.plumbing.repository import init_repository

    repo = init_repository(root)
    git = repo.git
    t = time.perf_counter()
    contents = [f"{k}\n".encode() for k in range(1001)]
    digests = [repo.store.put_bytes(c) for c in contents]
    flat = min(100_000, n_entries // 10)
    per_folder = 1000

    def entries():
        for i in range(n_entries - flat):
            k = i // per_folder
            yield Entry(f"f{k:04d}/e{i % per_folder:04d}.bin", digests[k % 1000], len(contents[k % 1000]))
        for i in range(flat):
            yield Entry(f"flat/e{i:06d}.bin", digests[1000], len(contents[1000]))

    tree = manifest.write_manifest(git, entries())
    digest, size, count = manifest.summarize(manifest.iter_entries(git, tree))
    huge = CollectionId(ENTITY, PROJECT, "huge")
    versions.commit_version(git, huge, tree, versions.version_facts("dataset", digest, size, count))
    new = manifest.update_manifest(git, tree, {"f0000/e0000.bin": Entry("f0000/e0000.bin", digests[1], len(contents[1]))})
    versions.commit_version(git, huge, new, versions.version_facts("dataset", "0" * 64, size, count))
    print(f"  huge: {n_entries:,} entries in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    many = CollectionId(ENTITY, PROJECT, "many")
    small = manifest.write_manifest(git, [Entry("a.txt", digests[0], len(contents[0]))])
    for n in range(n_versions):
        v = versions.commit_version(git, many, small, versions.version_facts(
            "model", f"{n:064x}", 1000 + (n * 7919) % 10007, 1, description=f"version {n}", metadata={"n": n}))
        if n % 1000 == 0:
            aliases.move_alias(git, many, f"milestone-{n // 1000}", v.commit, f"add alias to v{n}")
    print(f"  many: {n_versions:,} versions in {time.perf_counter() - t:.1f} s", file=sys.stderr)


def fetch(url: str) -> tuple[float, int]:
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        body = r.read()
        status = r.status
    assert status == 200, (url, status)
    return time.perf_counter() - t, len(body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(os.getcwd(), "bench-work", "ui"))
    ap.add_argument("--versions", type=int, default=10_000)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    root = os.path.join(args.work, f"repo-{args.versions}-{args.entries}")
    if not os.path.exists(os.path.join(root, ".done")):
        subprocess.run(["rm", "-rf", root], check=True)
        os.makedirs(root)
        print(f"generating {root} ...", file=sys.stderr)
        subprocess.run([sys.executable, __file__, "--build", root, str(args.versions), str(args.entries)], check=True)
        open(os.path.join(root, ".done"), "w").close()
    env = {**os.environ, "ARTVCS_ENTITY": ENTITY, "ARTVCS_PROJECT": PROJECT}
    artvcs = os.path.join(os.path.dirname(sys.executable), "artvcs")
    proc = subprocess.Popen([artvcs, "ui", "--port", "0"], cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().split(" at ", 1)[1].split()[0].rstrip("/")
        last = args.versions - 1
        e = f"/a/{ENTITY}/{PROJECT}"
        pages = [
            ("static file (floor: no repository read)", "/static/style.css"),
            ("index: projects and collections", "/"),
            ("versions of many, page 1", f"{e}/many"),
            (f"versions of many, page {max(1, args.versions // 100)}", f"{e}/many?page={max(1, args.versions // 100)}"),
            ("version many:latest", f"{e}/many:latest"),
            ("version many:v5000 (JSON twin)", f"{e}/many:v5000?format=json"),
            (f"history of many:v{last}", f"{e}/many:v{last}/history"),
            ("version huge:v0 (root of 1M entries)", f"{e}/huge:v0"),
            ("folder huge:v0 f0500 (1,000 files)", f"{e}/huge:v0/tree?path=f0500"),
            ("folder huge:v0 flat (1 of 256 listings of 100,000)", f"{e}/huge:v0/tree?path=flat&listing=%25files.7f"),
            ("file preview huge:v0 f0500/e0500.bin", f"{e}/huge:v0/file/f0500/e0500.bin"),
            ("diff huge:v0 huge:v1", f"/diff?old={ENTITY}/{PROJECT}/huge:v0&new={ENTITY}/{PROJECT}/huge:v1"),
            ("lineage huge:v1", f"{e}/huge:v1/lineage"),
            ("versions of many by size (keys read by the child)", f"{e}/many?sort=size&order=desc"),
        ]
        rows = []
        for label, path in pages:
            cold, size = fetch(base + path)
            warm = [fetch(base + path)[0] for _ in range(args.runs)]
            rows.append((label, cold, statistics.median(warm), max(warm), size))
    finally:
        proc.terminate()
        proc.wait()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "artvcs.porcelain.ui.warm", os.path.join(root, ".artifacts")], env=env,
                   stdout=subprocess.DEVNULL, check=True)
    child = time.perf_counter() - t
    floor = rows[0][2]
    print(f"\nartvcs ui on {args.versions:,} versions and a {args.entries:,}-entry manifest ({args.runs} runs per page; target < 300 ms)\n")
    print(f"{'page':<52} {'cold ms':>8} {'median ms':>10} {'max ms':>8} {'x floor':>8} {'KiB':>7}")
    for label, cold, med, mx, size in rows:
        print(f"{label:<52} {cold * 1000:8.1f} {med * 1000:10.1f} {mx * 1000:8.1f} {med / floor:8.1f} {size / 1024:7.1f}")
    print(f"\nthe server's child reading the sort keys of every version at start: {child:.2f} s")
    worst = max(r[1] for r in rows[1:])
    print(f"\nslowest page, cold: {worst * 1000:.0f} ms ({'under' if worst < 0.3 else 'OVER'} the 300 ms target)")
    print(json.dumps({r[0]: {"cold_ms": round(r[1] * 1000, 1), "median_ms": round(r[2] * 1000, 1)} for r in rows}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--build":
        os.chdir(sys.argv[2])
        build(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        sys.exit(0)
    sys.exit(main())
