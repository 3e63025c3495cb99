"""artvcs chunking benchmark: what a new version of a large file costs, and what chunking costs.

Usage: python bench/chunks.py [--size BYTES] [--versions N] [--runs N] [--work DIR] [--sweep]
                              [--speed-only] [--checkout-only] [--baseline DIR] [--pack-index]

Everything is written under --work (default ./bench-work/chunks). Figures are
printed beside their limits, measured in the same run on the same bytes:

1. Versions (through the real command line: ``artvcs log`` and ``artvcs push``
   to a file:// remote): a --size file of random bytes, then --versions - 2
   versions each overwriting 2 % of it in scattered 64 KiB regions, then one
   that appends 64 MiB. Each row: the store's growth (content/ and chunklists/)
   against the bytes changed (limit 3x; 1.1x for the append), and what push
   sent against that growth (limit 1x). Whole-file storage would grow by the
   file's size each time. A new large file is stored whole (v0) and chunked on
   its push; then a second project logs v0 and v1 back to back without a push,
   so v1 is staged as chunks (the stat cache knew the file) and its log converts
   v0: its growth and time (section 1b).
2. The chunk-size distribution of the last version's list.
3. Speed, round-robin, each run a fresh process (peak RSS its own): a new --size
   file stored as a log stores it (``put_file``: whole, the new log) against
   the whole-file store write before chunking existed (copy_file_range and hash
   of the copy; target >= 0.8x its speed), raw blake3 and ``cp`` as limits;
   storing it chunked (what round 5's log did for every version, and what a
   conversion costs per file); logging a second version (2 % scattered change)
   whose first is stored whole: the new file stored whole, then both converted
   to chunks, against round 5's log of a version (one chunked store) and
   against two chunked stores plus a whole one (this route's floor); and the
   same when the stat cache knew the file (the new file stored straight as
   chunks: floor two chunked stores); a chunked
   checkout (rebuilt and verified) against ``cp`` (<= 1.2x). Every timed ``cp`` and checkout
   starts from the same state (:func:`settle`: os.sync, the dirty and write-back pages of /proc/meminfo
   waited down to 16 MiB, the source read into the page cache), and their order rotates each round:
   the write-back of the log rows before them no longer lands on whichever runs first.
   Both store writes run with ARTVCS_FSYNC=0 (durability left to the OS, as cp).
   The chunked write and checkout are also run with ARTVCS_NATIVE=0 (pyfastcdc
   cutting instead of the C cutter), and with --baseline DIR (a checkout of
   another commit with its own .venv) by that commit's code, in the same rounds:
   a before/after on the same bytes and the same load (its checkout reads packs its
   own code wrote). --speed-only skips 1 and 2;
   --checkout-only keeps of 3 only blake3, cp and the checkout rows (and skips 4).
4. gc after deleting every version but the last: what the local store's and
   the remote's chunk packs hold before and after ``artvcs gc --grace 0`` and
   ``artvcs gc --remote --grace 0``, against the live bytes (the last version's
   chunks) and against what removing only wholly dead packs (the rule before
   pack rewriting) would leave; gc's time beside ``cp`` of what it kept.
5. With --sweep, the growth of 2 % scattered edits and the store-write speed for
   several average chunk sizes (a smaller file): the figures the default was
   chosen from.
6. With --pack-index, bench/packindex.py: finding a chunked file's chunks beside 16, 256 and 1600
   packs, with and without the multi-pack index, beside reading one pack index and ``cp``.

Speed is reported, never asserted: the machine is shared and noisy, ratios travel.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)
ARTVCS = os.path.join(os.path.dirname(sys.executable), "artvcs")
MiB = 1 << 20
REGION = 64 * 1024


# -- data -----------------------------------------------------------------------------------------
def gen(path: str, size: int, seed: int) -> None:
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(8 * MiB, left)
            f.write(rnd.randbytes(n))
            left -= n


def scatter_edit(path: str, fraction: float, seed: int) -> int:
    """Overwrite ``fraction`` of the file in scattered, non-overlapping 64 KiB regions; bytes changed."""
    size = os.path.getsize(path)
    rnd = random.Random(seed)
    slots = size // REGION
    picked = rnd.sample(range(slots), max(1, int(size * fraction) // REGION))
    with open(path, "r+b") as f:
        for s in picked:
            f.seek(s * REGION)
            f.write(rnd.randbytes(REGION))
    return len(picked) * REGION


def append(path: str, n: int, seed: int) -> int:
    rnd = random.Random(seed)
    with open(path, "ab") as f:
        for _ in range(n // (8 * MiB)):
            f.write(rnd.randbytes(8 * MiB))
    return n


def store_bytes(gitdir: str) -> int:
    total = 0
    for sub in ("content", "chunks", "chunklists"):
        for r, _, fs in os.walk(os.path.join(gitdir, sub)):
            total += sum(os.lstat(os.path.join(r, f)).st_size for f in fs)
    return total


def cli(*args: str, cwd: str) -> str:
    p = subprocess.run([ARTVCS, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, "ARTVCS_FSYNC": "0"})
    if p.returncode != 0:
        raise RuntimeError(f"artvcs {' '.join(args)} failed: {p.stderr}")
    return p.stdout


def rm(path: str) -> None:
    if os.path.lexists(path):
        subprocess.run(["chmod", "-R", "u+w", path], check=False)
        subprocess.run(["rm", "-rf", path], check=False)


# -- 1 and 2: versions ----------------------------------------------------------------------------
def versions(work: str, size: int, count: int) -> list[dict]:
    proj, remote = os.path.join(work, "proj"), os.path.join(work, "remote")
    rm(proj), rm(remote)
    os.makedirs(proj)
    cli("init", cwd=proj)
    cli("remote", "add", "origin", f"file://{remote}", cwd=proj)
    big = os.path.join(proj, "big.bin")
    gen(big, size, seed=1)
    gitdir = os.path.join(proj, ".artifacts")
    rows = []
    for v in range(count):
        if v == 0:
            kind, changed = "new file", size
        elif v == count - 1:
            kind, changed = "append 64 MiB", append(big, 64 * MiB, seed=100 + v)
        else:
            kind, changed = "2 % in 64 KiB regions", scatter_edit(big, 0.02, seed=100 + v)
        before = store_bytes(gitdir)
        t = time.perf_counter()
        cli("log", "big.bin", "--name", "big", "--type", "dataset", cwd=proj)
        secs = time.perf_counter() - t
        growth = store_bytes(gitdir) - before
        pushed = json.loads(cli("push", "--json", cwd=proj))
        rows.append({"version": v, "kind": kind, "changed": changed, "growth": growth, "log_seconds": secs,
                     "pushed": pushed["bytes"], "pushed_objects": pushed["objects"]})
    return rows


def second_version(work: str, size: int) -> dict:
    """Section 1b: v0 and v1 (2 % scattered change) logged back to back with no push between, so v1's
    log converts both files to chunks: its store growth against the change, and its time."""
    proj = os.path.join(work, "proj2")
    rm(proj)
    os.makedirs(proj)
    cli("init", cwd=proj)
    big = os.path.join(proj, "big.bin")
    gen(big, size, seed=1)
    gitdir = os.path.join(proj, ".artifacts")
    t = time.perf_counter()
    cli("log", "big.bin", "--name", "big", "--type", "dataset", cwd=proj)
    first = time.perf_counter() - t
    changed = scatter_edit(big, 0.02, seed=101)
    before = store_bytes(gitdir)
    t = time.perf_counter()
    cli("log", "big.bin", "--name", "big", "--type", "dataset", cwd=proj)
    secs = time.perf_counter() - t
    out = {"changed": changed, "growth": store_bytes(gitdir) - before, "log_seconds": secs, "first_seconds": first}
    rm(proj)
    return out


def pack_bytes(folder: str) -> int:
    try:
        return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder) if n.endswith(".pack"))
    except FileNotFoundError:
        return 0


def drop_only_left(gitdir: str, keep_digest: str) -> int:
    """The pack bytes left if gc removed only packs with no live chunk (the rule before rewriting)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from artvcs.plumbing.chunkpacks import LocalPacks
    from artvcs.plumbing.packplan import plan
    from artvcs.plumbing.chunkstore import read_list
    from artvcs.plumbing.repository import Repository

    repo = Repository(gitdir)
    try:
        live = {c for c, _ in read_list(repo.store, keep_digest).chunks}
        packs = LocalPacks(os.path.join(gitdir, "chunks"), shared_lock=False)
        decided = plan(packs.packs, live, set(), threshold=2.0)  # never rewrite: drop only
        packs.close()
        return sum(sum(n for _, n in rows) for p, rows in packs.packs.items() if p not in decided.drop)
    finally:
        repo.close()


def gc_reclaim(work: str, count: int) -> dict:
    """Delete v0..v(count-2) of the versions' project, then gc the store and the remote (section 4)."""
    proj, remote = os.path.join(work, "proj"), os.path.join(work, "remote")
    gitdir = os.path.join(proj, ".artifacts")
    big = os.path.join(proj, "big.bin")  # the last version's bytes
    import blake3

    digest = blake3.blake3(max_threads=blake3.blake3.AUTO).update_mmap(big).hexdigest()
    for v in range(count - 1):
        cli("delete", f"big:v{v}", "--delete-aliases", cwd=proj)
    cli("push", cwd=proj)
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from artvcs.plumbing.chunkstore import read_list
    from artvcs.plumbing.repository import Repository

    repo = Repository(gitdir)
    live = sum(n for _, n in read_list(repo.store, digest).chunks)
    repo.close()
    out = {"live": live, "local_before": pack_bytes(os.path.join(gitdir, "chunks")),
           "remote_before": pack_bytes(os.path.join(remote, "chunks")),
           "drop_only_left": drop_only_left(gitdir, digest)}
    t = time.perf_counter()
    local = json.loads(cli("gc", "--grace", "0", "--json", cwd=proj))
    out["local_seconds"] = time.perf_counter() - t
    out["local_after"] = pack_bytes(os.path.join(gitdir, "chunks"))
    out["local_rewritten"] = local.get("rewritten_chunk_packs", 0)
    t = time.perf_counter()
    rem = json.loads(cli("gc", "--remote", "--grace", "0", "--json", cwd=proj))
    out["remote_seconds"] = time.perf_counter() - t
    out["remote_after"] = pack_bytes(os.path.join(remote, "chunks"))
    out["remote_rewritten"] = rem.get("rewritten_chunk_packs", 0)
    kept = os.path.join(work, "gc-kept.bin")
    t = time.perf_counter()  # cp of the live file: the limit of copying what gc keeps
    subprocess.run(["cp", big, kept], check=True)
    out["cp_seconds"] = time.perf_counter() - t
    rm(kept)
    return out


def distribution(gitdir: str) -> dict:
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from artvcs.plumbing.chunkstore import iter_lists, read_list
    from artvcs.plumbing.store import ContentStore

    store = ContentStore(os.path.join(gitdir, "content"))
    sizes: list[int] = []
    newest = max(iter_lists(store), key=lambda d: os.path.getmtime(store.list_path(d)))
    sizes = sorted(n for _, n in read_list(store, newest).chunks)
    q = lambda p: sizes[min(len(sizes) - 1, int(p * len(sizes)))]
    buckets: dict[str, int] = {}
    for lo, hi in ((0, 16), (16, 32), (32, 64), (64, 128), (128, 256), (256, 1 << 30)):
        label = f"{lo}-{hi} KiB" if hi < 1 << 30 else f"{lo}+ KiB"
        buckets[label] = sum(1 for n in sizes if lo * 1024 <= n < hi * 1024)
    return {"count": len(sizes), "mean": statistics.mean(sizes), "p10": q(0.1), "median": q(0.5), "p90": q(0.9),
            "min": sizes[0], "max": sizes[-1], "buckets": buckets}


# -- 3: speed -------------------------------------------------------------------------------------
def child(op: str, baseline: str | None = None, native: bool = True, **args) -> dict:
    """Run ``op`` in a fresh process: this tree's code, or the ``baseline`` checkout's (its own .venv)."""
    cmd = [sys.executable, HERE] if baseline is None else \
        [os.path.join(baseline, ".venv", "bin", "python"), os.path.join(baseline, "bench", "chunks.py")]
    env = {**os.environ, "ARTVCS_FSYNC": "0", "ARTVCS_NATIVE": "1" if native else "0"}
    p = subprocess.run([*cmd, "--child", op, json.dumps(args)], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{op} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User plus system CPU time so far (all threads): what an operation costs on a busy machine."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run_cp(src: str, dst: str) -> dict:
    t, c = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run(["cp", src, dst], check=True)
    return {"seconds": time.perf_counter() - t, "cpu": cpu_seconds(resource.RUSAGE_CHILDREN) - c}


def run_child(op: str, args: dict) -> dict:
    """The timed body of one operation, in this (fresh) process."""
    from artvcs.plumbing.repository import init_repository

    if op == "blake3":
        import blake3

        t, cpu0 = time.perf_counter(), cpu_seconds()
        h = blake3.blake3(max_threads=blake3.blake3.AUTO)
        h.update_mmap(args["src"])
        h.hexdigest()
        secs = time.perf_counter() - t
    elif op in ("whole", "chunked", "new"):
        store = init_repository(args["repo"]).store
        put = {"whole": store.copy_in, "chunked": store.put_chunked, "new": store.put_file}[op]
        t, cpu0 = time.perf_counter(), cpu_seconds()
        put(args["src"])
        secs = time.perf_counter() - t
    elif op in ("second", "second-known"):
        store = init_repository(args["repo"]).store
        first, _ = store.put_file(args["first"])  # version 1, stored whole as a log stores it (untimed)
        t, cpu0 = time.perf_counter(), cpu_seconds()
        # "second": a draft that knows nothing of version 1 stores the file whole, then the log converts
        # both (large_files.chunk_replaced); "second-known": the stat cache knew the file as large, so
        # staging stored it straight as chunks, and the log converts version 1 only
        second, _ = store.put_file(args["src"], chunked=op == "second-known")
        store.convert_to_chunks(first)
        store.convert_to_chunks(second)
        secs = time.perf_counter() - t
    elif op == "checkout":
        from artvcs.plumbing import chunkstore

        store = init_repository(args["repo"]).store
        t, cpu0, own0 = time.perf_counter(), cpu_seconds(), time.thread_time()
        chunkstore.place_chunked(store, args["digest"], args["dst"], args["dst"] + ".tmp")
        secs = time.perf_counter() - t
        # this thread reads the list and pack indexes and drives the kernel's copy; the hash has a
        # thread of its own: on two free cores the wall is about this thread's CPU
        extra = {"copy_cpu": time.thread_time() - own0}
    else:
        raise SystemExit(f"unknown operation {op}")
    return {"seconds": secs, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cpu": cpu_seconds() - cpu0, **(extra if op == "checkout" else {})}


def meminfo_dirty() -> int:
    """Bytes waiting to be written back (Dirty + Writeback of /proc/meminfo)."""
    out = 0
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Dirty", "Writeback"):
                out += int(rest.split()[0]) * 1024
    return out


def warm(paths: list[str]) -> None:
    """Read ``paths`` to the end (into nothing): a timed copy's source comes from the page cache."""
    buf = bytearray(8 * MiB)
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass


def settle(sources: list[str], dirty_limit: int = 16 * MiB, wait_seconds: float = 20.0) -> dict:
    """The same preparation before every timed copy (cp and checkout alike): flush (os.sync), wait
    until at most ``dirty_limit`` bytes are dirty or under write-back (an earlier row's write-back
    competes with a copy for the disk and the CPU), and read the copy's source into the page cache.
    Returns what it found, for the report."""
    os.sync()
    deadline = time.monotonic() + wait_seconds
    while (dirty := meminfo_dirty()) > dirty_limit and time.monotonic() < deadline:
        time.sleep(0.05)
    warm(sources)
    return {"dirty_after_wait": dirty}


def store_sources(repo: str) -> list[str]:
    """The files a chunked checkout from the store at ``repo`` reads: its chunk packs and indexes,
    the multi-pack index and the chunk lists."""
    gitdir = os.path.join(repo, ".artifacts")
    out = []
    for sub in ("chunks", "chunklists"):
        for root, _, files in os.walk(os.path.join(gitdir, sub)):
            out += [os.path.join(root, f) for f in files if f != "lock"]
    return sorted(out)


def speed(work: str, size: int, runs: int, baseline: str | None, checkout_only: bool = False) -> dict[str, list[dict]]:
    src = os.path.join(work, "speed.bin")
    if not os.path.exists(src) or os.path.getsize(src) != size:
        gen(src, size, seed=7)
    keep = os.path.join(work, "speed-store")
    rm(keep)
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from artvcs.plumbing.repository import init_repository

    digest, _ = init_repository(keep).store.put_chunked(src)
    stores = {None: keep}  # each checkout reads packs its own code wrote (the baseline's may lay them out otherwise)
    if baseline:
        keep_base = os.path.join(work, "speed-store-baseline")
        rm(keep_base)
        init_repository(keep_base)
        child("chunked", baseline, repo=keep_base, src=src)
        stores[baseline] = keep_base
    second = os.path.join(work, "speed-v2.bin")  # version 2: 2 % changed in scattered 64 KiB regions
    shutil.copyfile(src, second)
    scatter_edit(second, 0.02, seed=8)
    # (row, operation, baseline checkout or None, native cutter)
    variants = [] if checkout_only else [("new", "new", None, True), ("chunked", "chunked", None, True),
                                         ("chunked pyfastcdc", "chunked", None, False)]
    checkouts = [("cp (checkout)", None), ("checkout", None)]
    if baseline:
        if not checkout_only:
            variants.append(("chunked baseline", "chunked", baseline, True))
        checkouts.append(("checkout baseline", baseline))
    writes_rows = () if checkout_only else ("whole", "second", "second-known")
    out: dict[str, list[dict]] = {k: [] for k in ("blake3", "cp", *writes_rows)}
    out.update({v[0]: [] for v in variants})
    out.update({c[0]: [] for c in checkouts})
    dst = os.path.join(work, "cp-target")
    for i in range(runs + 1):  # the first round warms the caches and is not counted
        res: dict[str, dict] = {}
        res["blake3"] = child("blake3", src=src)
        rm(dst)
        settle([src])
        res["cp"] = run_cp(src, dst)
        writes = [] if checkout_only else [("whole", "whole", None, True), *variants]
        k = i % max(len(writes), 1)  # the order rotates each round: no row always follows the same one
        repo = os.path.join(work, "store-write")
        for row, op, base, native in writes[k:] + writes[:k]:
            rm(repo)
            os.sync()
            res[row] = child(op, base, native, repo=repo, src=src)
        if not checkout_only:
            rm(repo)
            os.sync()
            res["second"] = child("second", repo=repo, first=src, src=second)
            rm(repo)
            os.sync()
            res["second-known"] = child("second-known", repo=repo, first=src, src=second)
            rm(repo)
        # cp and the checkouts: each after the same settle() (flushed, write-back drained, source
        # warm), in an order that rotates each round, so none always follows the log rows' write-back
        k = i % len(checkouts)
        for row, base in checkouts[k:] + checkouts[:k]:
            rm(dst)
            if row == "cp (checkout)":
                prep = settle([src])
                res[row] = {**run_cp(src, dst), **prep}
            else:
                prep = settle(store_sources(stores[base]))
                res[row] = {**child("checkout", base, repo=stores[base], digest=digest, dst=dst), **prep}
        if i:
            for k, v in res.items():
                out[k].append(v)
    rm(os.path.join(work, "store-write"))
    rm(dst)
    rm(second)
    if baseline:
        rm(stores[baseline])
    return out


# -- 4: the sweep of average sizes ----------------------------------------------------------------
def sweep(work: str, size: int) -> list[dict]:
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from artvcs.plumbing import chunking, chunkstore
    from artvcs.plumbing.repository import init_repository

    src = os.path.join(work, "sweep.bin")
    rows = []
    for avg in (16384, 32768, 65536, 131072):
        chunking.AVG_SIZE, chunking.MIN_SIZE, chunking.MAX_SIZE = avg, avg // 4, avg * 4
        repo_dir = os.path.join(work, "sweep-repo")
        rm(repo_dir)
        store = init_repository(repo_dir).store
        gen(src, size, seed=3)
        t = time.perf_counter()
        digest, _ = store.put_chunked(src)
        secs = time.perf_counter() - t
        chunks = chunkstore.read_list(store, digest).chunks
        gitdir = os.path.join(repo_dir, ".artifacts")
        ratios = []
        for v in range(3):
            changed = scatter_edit(src, 0.02, seed=200 + v)
            before = store_bytes(gitdir)
            store.put_chunked(src)
            ratios.append((store_bytes(gitdir) - before) / changed)
        rows.append({"avg": avg, "mean_chunk": size / len(chunks), "growth_ratio": statistics.mean(ratios),
                     "store_mib_s": size / MiB / secs})
        rm(repo_dir)
    return rows


# -- report ---------------------------------------------------------------------------------------
def fmt_bytes(n: float) -> str:
    return f"{n / MiB:8.1f} MiB"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_child(sys.argv[2], json.loads(sys.argv[3]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1 << 30)
    ap.add_argument("--versions", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(os.getcwd(), "bench-work", "chunks"))
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--pack-index", action="store_true", help="also section 6 (bench/packindex.py)")
    ap.add_argument("--json", dest="json_out", default=None)
    ap.add_argument("--speed-only", action="store_true", help="skip the versions and the chunk-size distribution")
    ap.add_argument("--checkout-only", action="store_true", help="only blake3, cp and the chunked checkout rows")
    ap.add_argument("--baseline", default=None, help="a checkout of another commit with its own .venv, measured beside")
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    report: dict = {"size": a.size}
    print(f"artvcs chunking bench: {a.size / MiB:.0f} MiB file, {a.versions} versions, {a.runs} speed runs; data in {work}\n")

    a.speed_only = a.speed_only or a.checkout_only
    if not a.speed_only:
        report_versions(work, a, report)
    sp = speed(work, a.size, a.runs, a.baseline and os.path.abspath(a.baseline), a.checkout_only)
    report["speed"] = sp
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in sp.items()}
    cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in sp.items()}
    rss = {k: max((r.get("rss_mib", 0) for r in v), default=0) for k, v in sp.items()}
    mibs = lambda k: a.size / MiB / med[k]
    print(f"3. speed (median of {a.runs}, round-robin; MiB/s, and CPU seconds: user + system, all threads)")
    print(f"   raw blake3 (mmap, threads)         {mibs('blake3'):8.0f}   CPU {cpu['blake3']:5.2f} s")
    print(f"   cp                                 {mibs('cp'):8.0f}   CPU {cpu['cp']:5.2f} s")
    if "whole" in med:
        print(f"   store whole (today's log)          {mibs('whole'):8.0f}   CPU {cpu['whole']:5.2f} s   "
              f"peak RSS {rss['whole']:.0f} MiB")
    for row, label in (("new", "store a new file (new log)"), ("chunked", "store chunked (round 5's log)"),
                       ("chunked pyfastcdc", "  the same, ARTVCS_NATIVE=0"),
                       ("chunked baseline", "  the same, --baseline")):
        if row in med:
            target = " (target >= 0.8x)" if row == "new" else ""  # the chunked rows: what a conversion costs
            print(f"   {label:<34} {mibs(row):8.0f}   CPU {cpu[row]:5.2f} s   peak RSS {rss[row]:.0f} MiB   "
                  f"{med['whole'] / med[row]:.2f}x today's speed{target}, by CPU {cpu['whole'] / cpu[row]:.2f}x")
    for row, label, floor in () if a.checkout_only else (
            ("second", "log a second version (convert both)", 2 * cpu["chunked"] + cpu["whole"]),
            ("second-known", "  the same, the stat cache knew it", 2 * cpu["chunked"])):
        # floor: this route's work for version 2, from the same run (two files chunked; one copied whole first)
        print(f"   {label:<35} {mibs(row):7.0f}   CPU {cpu[row]:5.2f} s   peak RSS {rss[row]:.0f} MiB   "
              f"{med[row] / med['chunked']:.2f}x the time of round 5's log of a version (one chunked store), by CPU "
              f"{cpu[row] / cpu['chunked']:.2f}x; {cpu[row] / floor:.2f}x by CPU of its floor ({floor:.2f} s)")
    for row, label in (("checkout", "checkout chunked, verified"), ("checkout baseline", "  the same, --baseline")):
        if row in med:
            owns = [r["copy_cpu"] for r in sp[row] if "copy_cpu" in r]  # (a baseline may not report it)
            own = statistics.median(owns) if owns else None
            print(f"   {label:<34} {mibs(row):8.0f}   CPU {cpu[row]:5.2f} s   peak RSS {rss[row]:.0f} MiB   "
                  f"{med[row] / med['cp (checkout)']:.2f}x cp (target <= 1.2x), by CPU "
                  f"{cpu[row] / cpu['cp (checkout)']:.2f}x" + (f"; the copying thread's CPU {own:.2f} s, "
                  f"{own / cpu['cp (checkout)']:.2f}x cp's (the hash runs beside it)" if own else ""))
    cps = [r["seconds"] for r in sp["cp (checkout)"]]
    print(f"   cp beside the checkouts (settled) {mibs('cp (checkout)'):8.0f}   per run (s): "
          + " ".join(f"{x:.3f}" for x in cps))
    for row in ("checkout", "checkout baseline"):
        if row in sp:
            ratios = sorted(r["seconds"] / c for r, c in zip(sp[row], cps))
            print(f"   {row:<34} per run (s): " + " ".join(f"{r['seconds']:.3f}" for r in sp[row])
                  + f"; ÷ the round's cp: median {statistics.median(ratios):.2f}x, {ratios[0]:.2f}–{ratios[-1]:.2f}")
    worst = max((r.get("dirty_after_wait", 0) for k in sp for r in sp[k]), default=0)
    print(f"   (before each cp and checkout: os.sync, Dirty+Writeback waited down to <= 16 MiB (worst left "
          f"{worst / MiB:.1f} MiB), the source read into the page cache; their order rotates each round)")
    print()

    if not a.speed_only:
        g = gc_reclaim(work, a.versions)
        report["gc"] = g
        print(f"4. gc after deleting v0..v{a.versions - 2}: live (v{a.versions - 1}'s chunks) {fmt_bytes(g['live'])}")
        for side in ("local", "remote"):
            print(f"   {side:<6} packs {fmt_bytes(g[side + '_before'])} -> {fmt_bytes(g[side + '_after'])}  "
                  f"({g[side + '_after'] / g['live']:.2f}x live; {g[side + '_rewritten']} packs rewritten, "
                  f"gc {g[side + '_seconds']:.1f} s)")
        print(f"   removing only wholly dead packs would leave {fmt_bytes(g['drop_only_left'])} "
              f"({g['drop_only_left'] / g['live']:.2f}x live); cp of the live file: {g['cp_seconds']:.1f} s\n")

    if a.sweep:
        sw = sweep(work, min(a.size, 256 * MiB))
        report["sweep"] = sw
        print("5. average chunk size: growth of a 2 % scattered edit (limit 3x) and store-write speed")
        for r in sw:
            print(f"   target {r['avg'] // 1024:4d} KiB  mean chunk {r['mean_chunk'] / 1024:7.1f} KiB  "
                  f"growth {r['growth_ratio']:5.2f}x  store {r['store_mib_s']:6.0f} MiB/s")
    if a.pack_index:
        sys.path.insert(0, os.path.dirname(HERE))
        import packindex

        report["pack_index"] = packindex.run(os.path.join(work, "packindex-work"), [16, 256, 1600], 64 * MiB, a.runs)
        packindex.report(report["pack_index"], 64 * MiB, a.runs)
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(report, f, indent=1)
    for leftover in ("proj", "remote", "speed-store", "speed-store-baseline", "sweep.bin", "gc-kept.bin"):
        rm(os.path.join(work, leftover))
    return 0


def report_versions(work: str, a: argparse.Namespace, report: dict) -> None:
    """Sections 1 and 2: the versions' store growth and push, and the chunk-size distribution."""
    rows = versions(work, a.size, a.versions)
    report["versions"] = rows
    print("1. versions (artvcs log, artvcs push)       changed      growth  growth/changed  limit   pushed  pushed/growth")
    for r in rows:
        limit = "-" if r["version"] == 0 else ("1.1x" if r["kind"].startswith("append") else "3x")
        ratio = r["growth"] / r["changed"]
        pushed = r["pushed"] / r["growth"] if r["growth"] else 0.0
        print(f"   v{r['version']:<2} {r['kind']:<24} {fmt_bytes(r['changed'])} {fmt_bytes(r['growth'])}  "
              f"{ratio:14.2f}x  {limit:>5} {fmt_bytes(r['pushed'])}  {pushed:12.2f}x  (log {r['log_seconds']:.1f} s)")
    print(f"   whole-file storage would grow by the file's size each version: {a.size / (0.02 * a.size):.0f}x a 2 % change")
    print("   (v0 is stored whole by its log and converted to chunks by its push: each later log converts only its own file)\n")
    sv = second_version(work, a.size)
    report["second_version"] = sv
    print(f"1b. v0 and v1 logged back to back (no push): v1 changed {fmt_bytes(sv['changed'])}, store growth "
          f"{fmt_bytes(sv['growth'])} = {sv['growth'] / sv['changed']:.2f}x the change (limit 3x); "
          f"log v0 {sv['first_seconds']:.1f} s (whole), v1 {sv['log_seconds']:.1f} s (v1 stored as chunks, v0 converted)\n")

    dist = distribution(os.path.join(work, "proj", ".artifacts"))
    report["distribution"] = dist
    print(f"2. chunk sizes of the last version: {dist['count']} chunks, mean {dist['mean'] / 1024:.1f} KiB, "
          f"p10 {dist['p10'] / 1024:.1f}, median {dist['median'] / 1024:.1f}, p90 {dist['p90'] / 1024:.1f}, "
          f"min {dist['min'] / 1024:.1f}, max {dist['max'] / 1024:.1f} KiB")
    print("   " + ", ".join(f"{k}: {v}" for k, v in dist["buckets"].items()) + "\n")


if __name__ == "__main__":
    sys.exit(main())
