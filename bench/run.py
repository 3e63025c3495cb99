"""artvcs benchmark: every figure beside the machine's own limit, measured in the same run.

Usage: python bench/run.py [--quick] [--work DIR] [--runs N] [--only NAME,...] [--profile DIR] [--artvcs SCRIPT]

Operations (for --only): hash, log, log-immutable, relog, log-large, checkout, checkout-large,
diff, startup, million, peers (git and DVC on the same data: see peers.py), peers-small (its
20,000-file part only), peers-large (its 2 × 1 GiB part only).

It generates its data deterministically under --work (default ./bench-work,
and nothing is written anywhere else): a small set of many 1-16 KiB files in
200 folders, the same set with 1 % of files modified and 1 % added, and two
large files of random bytes. Each operation runs --runs times, each run in a
fresh child process so that peak RSS is the operation's own; the table shows
the median and min-max wall time, throughput, peak RSS, and the limit
(cp -a, cp -al, raw blake3, reading the bytes) with the ratio to it. Speed is
reported, never asserted: machines are shared and noisy, ratios travel.
With --profile DIR, one more run of each operation goes under pyinstrument
(pip install -e '.[bench]') and its call tree is written to DIR/<operation>.txt;
that run is not counted in the table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "child.py")


def gen_small(root: str, files: int, folders: int, seed: int = 1) -> int:
    """``files`` files of 1-16 KiB in ``folders`` folders; returns total bytes."""
    rnd = random.Random(seed)
    total = 0
    per = files // folders
    for d in range(folders):
        folder = os.path.join(root, f"d{d:03d}")
        os.makedirs(folder, exist_ok=True)
        for i in range(per):
            data = rnd.randbytes(rnd.randint(1024, 16384))
            total += len(data)
            with open(os.path.join(folder, f"f{i:04d}.bin"), "wb") as f:
                f.write(data)
    return total


def gen_edit(src: str, dst: str) -> None:
    """A copy of ``src`` with 1 % of files modified and 1 % added."""
    shutil.copytree(src, dst, symlinks=True)
    apply_edit(dst)


def apply_edit(root: str, seed: int = 2) -> None:
    """Modify 1 % of the files under ``root`` in place and add 1 % more."""
    rnd = random.Random(seed)
    paths = sorted(os.path.join(r, f) for r, _, fs in os.walk(root) for f in fs)
    n = max(1, len(paths) // 100)
    for p in rnd.sample(paths, n):
        with open(p, "r+b") as f:
            f.write(rnd.randbytes(64))
    for i in range(n):
        folder = os.path.dirname(paths[rnd.randrange(len(paths))])
        with open(os.path.join(folder, f"new{i:04d}.bin"), "wb") as f:
            f.write(rnd.randbytes(rnd.randint(1024, 16384)))


def gen_large(path: str, size: int, seed: int) -> None:
    rnd = random.Random(seed)
    chunk = 8 << 20
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(rnd.randbytes(n))
            left -= n


PROFILE_DIR: str | None = None


def child(op: str, profile_as: str | None = None, **args) -> dict:
    """Run one operation in a fresh interpreter; it reports seconds, peak RSS and extras.
    With ``profile_as`` (and --profile), it runs under the profiler into that file instead."""
    where = [os.path.join(PROFILE_DIR, f"{profile_as}.txt")] if profile_as and PROFILE_DIR else []
    out = subprocess.run([sys.executable, CHILD, op, json.dumps(args), *where], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{op} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def shell(cmd: list[str], before=None) -> float:
    if before:
        before()
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def rm(path: str) -> None:
    if os.path.lexists(path):
        subprocess.run(["chmod", "-R", "u+w", path], check=False)
        subprocess.run(["rm", "-rf", path], check=False)  # much faster than shutil for a million files


def warm(path: str) -> None:
    """Read every file below ``path`` so that it is in the page cache: on a shared machine the
    2 GiB of large files are often evicted between runs, and a copy that first reads from disk
    measures the disk, not the copy. Limits and operations are both run warm."""
    buf = bytearray(8 << 20)
    for r, _, fs in os.walk(path):
        for f in fs:
            with open(os.path.join(r, f), "rb", buffering=0) as fh:
                while fh.readinto(buf):
                    pass


def measure(runs: int, fn) -> list[dict]:
    return [fn(i) for i in range(runs)]


def profile(name: str, fn) -> None:
    """One more run of ``fn(profile_as)`` under the profiler (with --profile), not counted."""
    if PROFILE_DIR:
        fn(name)
        print(f"profiled {name}: {os.path.join(PROFILE_DIR, name + '.txt')}", file=sys.stderr)


def summary(results: list[dict]) -> dict:
    secs = [r["seconds"] for r in results]
    return {
        "median": statistics.median(secs),
        "min": min(secs),
        "max": max(secs),
        "rss_mib": max(r.get("rss_kib", 0) for r in results) / 1024,
        "extra": results[-1].get("extra", {}),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small data, one run each (under a minute)")
    ap.add_argument("--work", default=os.path.join(os.getcwd(), "bench-work"))
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--only", default="", help="comma-separated operation names")
    ap.add_argument("--json", dest="json_out", default=None, help="also write the results as JSON here")
    ap.add_argument("--profile", default=None, help="also profile each operation once into this folder")
    ap.add_argument("--artvcs", default=os.path.join(os.path.dirname(sys.executable), "artvcs"),
                    help="the artvcs console script the whole-command rows run (startup, peers): by default this "
                         "venv's (an editable install by README); e.g. a plain 'pip install .' venv's bin/artvcs")
    ap.add_argument("--server", action="store_true",
                    help="the peers rows also run served by a fork server (artvcs server start): the (server) rows")
    ap.add_argument("--artvcs-before", default=None,
                    help="a second artvcs console script the peers rows also run, in the same rounds, just before "
                         "--artvcs's (e.g. the main branch installed apart): a before/after in one run")
    a = ap.parse_args()
    global PROFILE_DIR
    if a.profile:
        PROFILE_DIR = os.path.abspath(a.profile)
        os.makedirs(PROFILE_DIR, exist_ok=True)
    quick = a.quick
    runs = a.runs or (1 if quick else 3)
    n_small, n_folders = (2000, 20) if quick else (20000, 200)
    large = (64 << 20) if quick else (1 << 30)
    only = set(filter(None, a.only.split(",")))
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    small, edited, big = (os.path.join(work, n) for n in ("small", "small-edited", "large"))
    print(f"artvcs bench: {'quick' if quick else 'full'}, {runs} run(s) each, data in {work}", file=sys.stderr)
    if not os.path.isdir(small) or len([1 for _, _, fs in os.walk(small) for _ in fs]) != n_small:
        rm(small), rm(edited)
        gen_small(small, n_small, n_folders)
    if not os.path.isdir(edited):
        gen_edit(small, edited)
    os.makedirs(big, exist_ok=True)
    bigs = [os.path.join(big, f"blob{i}.bin") for i in range(2)]
    needs_large = not only or bool(only & {"hash", "log-large", "checkout-large", "peers", "peers-large"})
    for i, p in enumerate(bigs):
        if needs_large and (not os.path.exists(p) or os.path.getsize(p) != large):
            gen_large(p, large, seed=10 + i)
    # An installed package ships bytecode; a checkout run with PYTHONDONTWRITEBYTECODE would
    # otherwise compile artvcs in every child, inside the timed operation.
    import compileall

    root = os.path.dirname(HERE)
    for pkg in ("artvcs", "plumbing", "porcelain"):
        compileall.compile_dir(os.path.join(root, pkg), quiet=1)
    small_bytes = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(small) for f in fs)
    rows: list[tuple] = []

    def want(name: str) -> bool:
        return not only or name in only

    def limit_cp(flag: str, src: str, then_sync: bool = False, warmup: bool = False) -> list[dict]:
        # Like every operation (see child.py), a limit starts with nothing dirty.
        dst = os.path.join(work, "cp-target")
        out = []
        for i in range(runs + warmup):
            rm(dst)
            warm(src)
            os.sync()
            t = time.perf_counter()
            subprocess.run(["cp", flag, src, dst], check=True)
            if then_sync:
                os.sync()  # what a durable copy costs: the bytes reach the disk
            if i >= warmup:
                out.append({"seconds": time.perf_counter() - t})
        rm(dst)
        return out

    lim = {}
    if only and not only - {"million", "peers", "peers-small", "peers-large"}:  # these measure their own limits, or none
        return finish(a, rows, lim, quick, work, runs, small, big, want)
    lim["cp -a small"] = summary(limit_cp("-a", small))
    lim["cp+sync small"] = summary(limit_cp("-a", small, then_sync=True))
    lim["cp -al small"] = summary(limit_cp("-al", small))
    # "a stat of every file", in C: du stats each entry once (fstatat) and reads nothing
    lim["stat small"] = summary([{"seconds": shell(["du", "-s", "-b", small], before=lambda: warm(small))} for _ in range(runs)])
    if needs_large:
        lim["blake3 1 file"] = summary(measure(max(runs, 3), lambda i: child("raw_blake3", path=bigs[0])))
        lim["read 1 file"] = summary(measure(runs, lambda i: child("read", path=bigs[0])))
        # Writing 2 GiB into page cache is fast into pages just freed and slow into pages the VM's
        # host must hand over again (free page reporting): so every large write, limit or operation,
        # runs right after the previous one's 2 GiB were deleted, after one untimed warm-up.
        lim["cp large"] = summary(limit_cp("-a", big, warmup=True))
        lim["cp+sync large"] = summary(limit_cp("-a", big, then_sync=True, warmup=True))
    for k, v in lim.items():
        print(f"limit {k}: median {v['median']:.3f}s", file=sys.stderr)

    def fresh_repo(i: int) -> str:
        proj = os.path.join(work, f"proj-{i}")
        rm(proj)
        os.makedirs(proj)
        return proj

    def row(name, res, nbytes, limit_name, target, note=""):
        s = summary(res)
        limit = lim[limit_name]["min"] if limit_name in ("blake3 1 file",) else lim[limit_name]["median"] if limit_name else None
        # blake3's limit is "at its best": compare best with best
        ratio = ((s["min"] if limit_name == "blake3 1 file" else s["median"]) / limit) if limit else None
        thr = nbytes / s["median"] / 1e6 if nbytes and s["median"] else None
        rows.append((name, s, thr, limit_name, limit, ratio, target, note))
        print(f"done {name}: {s['median']:.3f}s", file=sys.stderr)

    if want("hash"):
        res = measure(runs, lambda i: child("hash", path=bigs[0]))
        profile("hash", lambda p: child("hash", p, path=bigs[0]))
        anon = max(r["extra"]["peak_anon_mib"] for r in res)
        row("hash 1 large file", res, large, "blake3 1 file", "≥0.8× blake3 (ratio ≤1.25)",
            f"heap {anon} MiB (RSS counts the mapped file)")
    if want("log"):
        def log_small(i: int, p: str | None = None, policy: str = "mutable") -> dict:
            warm(small)
            return child("log", p, proj=fresh_repo(i), src=small, policy=policy)

        res = measure(runs, log_small)
        profile("log", lambda p: log_small(0, p))
        vs_cp = summary(res)["median"] / lim["cp -a small"]["median"]
        row("log small set (copy)", res, small_bytes, "cp+sync small", "≤1.0× cp -a",
            f"{n_small} files, durable; {vs_cp:.2f}× cp -a without sync")
        res = measure(runs, lambda i: (warm(small), child("log", proj=fresh_repo(i), src=small, policy="mutable", fsync=False))[1])
        row("log small set (copy), ARTVCS_FSYNC=0", res, small_bytes, "cp -a small", "≤1.0× cp -a", "durability left to the OS, as cp")
    if want("log-immutable"):
        def log_immutable(i: int, p: str | None = None) -> dict:
            warm(small)
            return child("log", p, proj=fresh_repo(i), src=small, policy="immutable")

        res = measure(runs, log_immutable)
        profile("log-immutable", lambda p: log_immutable(0, p))
        row("log small set (immutable)", res, small_bytes, "cp -al small", "≤3× cp -al")
    if want("relog"):
        def relog(i: int, p: str | None = None) -> dict:
            proj = fresh_repo(i)
            tmp = os.path.join(work, "relog-src")
            rm(tmp)
            shutil.copytree(small, tmp, symlinks=True)  # copy2: old mtimes, as a dataset at rest
            first = child("log", proj=proj, src=tmp, policy="mutable")
            apply_edit(tmp)
            r = child("log", p, proj=proj, src=tmp, policy="mutable")
            r["extra"] = {"first_s": first["seconds"], **r.get("extra", {})}
            rm(tmp)
            return r

        res = measure(runs, relog)
        profile("relog", lambda p: relog(0, p))
        first = statistics.median(r["extra"]["first_s"] for r in res)
        s = summary(res)
        rows.append(("re-log after 1 % edit", s, None, "first log", first, s["median"] / first, "≤0.05× first log", ""))
    if want("log-large"):
        def log_large(i: int, p: str | None = None, **kw) -> dict:
            warm(big)
            return child("log", p, proj=fresh_repo(96), src=big, policy="mutable", **kw)  # 96: the previous run's 2 GiB

        log_large(0)  # the untimed warm-up
        res = measure(runs, log_large)
        profile("log-large", lambda p: log_large(0, p))
        vs_cp = summary(res)["median"] / lim["cp large"]["median"]
        row("log 2 large files", res, 2 * large, "cp+sync large", "≤1.5× cp",
            f"durable (bytes on disk before the version ref); {vs_cp:.2f}× cp without sync")
        res = measure(runs, lambda i: log_large(i, fsync=False))
        row("log 2 large files, ARTVCS_FSYNC=0", res, 2 * large, "cp large", "≤1.5× cp", "durability left to the OS, as cp")
    if want("checkout"):
        proj = fresh_repo(99)
        child("log", proj=proj, src=small, policy="mutable")
        dst = os.path.join(work, "co")
        content = os.path.join(proj, ".artifacts", "content")

        def co(mode: str, verify: bool = True, p: str | None = None) -> dict:
            rm(dst)
            warm(content)  # as cp's source is warmed
            return child("checkout", p, proj=proj, dst=dst, mode=mode, verify=verify)

        # The copy rows are timed round-robin with their own cp -a (cp, verified, unverified in
        # turn), each into a folder of its own, and nothing is deleted until all have run: ext4
        # without a journal passes over every inode freed in the last minute when it allocates a
        # new one, so a deletion of 20,000 files just before a run slows that run by as much as
        # the copy itself costs, whichever program it is. So the load of a shared machine and
        # the file system's state fall on cp and artvcs alike.
        # The fallback (ARTVCS_NATIVE=0: a file at a time, no C batches) runs in the same turns.
        paired: dict = {"cp": [], True: [], False: [], "fallback": []}
        made = []
        for i in range(runs):
            made.append(os.path.join(work, f"cp-paired-{i}"))
            warm(small)
            os.sync()
            t = time.perf_counter()
            subprocess.run(["cp", "-a", small, made[-1]], check=True)
            paired["cp"].append({"seconds": time.perf_counter() - t})
            for verify in (True, False, "fallback"):
                made.append(os.path.join(work, f"co-paired-{i}-{verify}"))
                warm(content)
                native = os.environ.get("ARTVCS_NATIVE")
                if verify == "fallback":
                    os.environ["ARTVCS_NATIVE"] = "0"
                try:
                    paired[verify].append(child("checkout", proj=proj, dst=made[-1], mode="copy", verify=bool(verify)))
                finally:
                    if native is None:
                        os.environ.pop("ARTVCS_NATIVE", None)
                    else:
                        os.environ["ARTVCS_NATIVE"] = native
        for d in made:
            rm(d)
        profile("checkout-copy", lambda p: co("copy", True, p))
        lim["cp -a small, paired"] = summary(paired["cp"])
        row("checkout (copy)", paired[True], small_bytes, "cp -a small, paired", "≤1.0× cp -a",
            f"mode used: {paired[True][-1]['extra'].get('mode')}; round-robin with cp -a")
        row("checkout (copy), --no-verify", paired[False], small_bytes, "cp -a small, paired", "", "the cost of verifying")
        row("checkout (copy), ARTVCS_NATIVE=0", paired["fallback"], small_bytes, "cp -a small, paired", "",
            "verified, a file at a time: no C batches")
        # "auto" tries a reflink and falls back to copy; the mode it used is shown.
        for mode, limit, target in (("hardlink", "cp -al small", "≤2× cp -al"), ("auto", "cp -a small", "reflink, else copy")):
            res = measure(runs, lambda i: co(mode))
            profile(f"checkout-{mode}", lambda p: co(mode, True, p))
            row(f"checkout ({mode})", res, small_bytes, limit, target, f"mode used: {res[-1]['extra'].get('mode')}")
        res = measure(runs, lambda i: child("checkout", proj=proj, dst=dst, mode="copy"))
        profile("checkout-up-to-date", lambda p: child("checkout", p, proj=proj, dst=dst, mode="copy"))
        row("checkout onto up-to-date folder", res, None, "stat small", "≈ a stat per file")
        res = measure(runs, lambda i: child("verify", proj=proj, dst=dst))
        profile("verify", lambda p: child("verify", p, proj=proj, dst=dst))
        row("verify checked-out folder", res, small_bytes, "cp -a small", "")
    if want("checkout-large"):
        proj = fresh_repo(95)
        child("log", proj=proj, src=big, policy="mutable")
        dst = os.path.join(work, "co-large")
        content = os.path.join(proj, ".artifacts", "content")

        # Timed in turns with its own cp -a of the same 2 GiB, the order rotating each round; before
        # each copy alike the previous one's 2 GiB are deleted (each writes into pages just freed, see
        # cp large), its source read into the page cache and nothing left dirty. Against the unpaired
        # cp large, timed minutes earlier in another page-cache state, the same checkout took 0.68-1.55 s
        # in one run (2026-12-03); in turns, 0.63-0.67 s beside cp's 0.72 s.
        def settled(source: str) -> None:
            rm(dst)
            warm(source)
            os.sync()

        def cp_large(i: int) -> dict:
            settled(big)
            t = time.perf_counter()
            subprocess.run(["cp", "-a", big, dst], check=True)
            return {"seconds": time.perf_counter() - t}

        def co_large(verify: bool, p: str | None = None) -> dict:
            settled(content)
            return child("checkout", p, proj=proj, dst=dst, mode="copy", verify=verify)

        steps = {"cp": cp_large, True: lambda i: co_large(True), False: lambda i: co_large(False)}
        for step in steps.values():
            step(0)  # the untimed warm-up (see cp large)
        paired: dict = {k: [] for k in steps}
        order = list(steps)
        for i in range(runs):
            for k in order[i % 3:] + order[:i % 3]:
                paired[k].append(steps[k](i))
        profile("checkout-large", lambda p: co_large(True, p))
        lim["cp large, paired"] = summary(paired["cp"])
        row("checkout 2 large files", paired[True], 2 * large, "cp large, paired", "≤1.1× cp",
            "content verified on the way; in turns with cp -a")
        row("checkout 2 large files, --no-verify", paired[False], 2 * large, "cp large, paired", "",
            "--no-verify: the cost of verifying")
        rm(dst)
        rm(proj)
    if want("diff"):
        proj = fresh_repo(98)
        child("log", proj=proj, src=small, policy="mutable")
        child("log", proj=proj, src=edited, policy="mutable")
        row("diff v0 v1", measure(runs, lambda i: child("diff", proj=proj)), None, None, "", "")
    if want("startup"):
        exe = a.artvcs
        res = [{"seconds": shell([exe, "--version"])} for _ in range(max(runs, 5))]
        row("artvcs --version", res, None, None, "≤0.1 s", "")
    return finish(a, rows, lim, quick, work, runs, small, big, want)


def finish(a, rows, lim, quick, work, runs, small, big, want) -> int:
    """The million-entry operation and the peers (neither needs this run's other limits), then the tables."""
    if want("million"):
        million = 100_000 if quick else 1_000_000
        proj = os.path.join(work, "proj-97")
        rm(proj)
        os.makedirs(proj)
        built = child("million", proj=proj, n=million)
        tree = built["extra"].pop("tree")
        co = child("million_checkout", proj=proj, tree=tree, n=million)  # a fresh process: its own peak
        # the user's paths: the whole command (the RSS its own process's peak) and the binding's download
        cli = child("million_cli", proj=proj, n=million)
        cli["rss_kib"] = 1024 * max(cli["extra"].pop("peak MiB, first"), cli["extra"].pop("peak MiB, again"))
        dl = child("million_download", proj=proj, n=million)
        for r in (built, co, cli, dl):
            s = summary([r])
            for k, v in r["extra"].items():
                rows.append((f"{million:,} entries: {k}", {**s, "median": v, "min": v, "max": v}, None, None, None, None,
                             "works; linear", "" if r is built else "RSS: the checking process's peak"))
                print(f"done {million:,} entries: {k}: {v:.3f}s, peak RSS {s['rss_mib']:.1f} MiB", file=sys.stderr)
        rm(proj)  # its checkout is a million files: deleting them takes minutes, and times nothing
    peers = None
    parts = tuple(p for p in ("small", "large") if want("peers") or want(f"peers-{p}"))
    if parts:
        from peers import print_peers, run_peers

        exe = os.path.abspath(a.artvcs)  # each step runs in its project folder
        before = os.path.abspath(a.artvcs_before) if a.artvcs_before else None
        print(f"bench: peers run {exe}" + (f", and before it {before}" if before else ""), file=sys.stderr)
        peers = run_peers(work, runs, small, big, apply_edit, rm, warm, exe, parts, before, a.server)
    print_table(rows, lim, quick)
    if peers:
        print_peers(*peers)
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"rows": [r[0:1] + (r[1],) + r[2:] for r in rows], "limits": lim}, f, indent=1, default=str)
    return 0


def print_table(rows, lim, quick) -> None:
    print(f"\nartvcs benchmark ({'quick' if quick else 'full'}) — {platform.node()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}")
    print("limits (same run, same bytes): " + ", ".join(f"{k} {v['median']:.3f}s" for k, v in lim.items()))
    hdr = f"{'operation':34} {'median':>8} {'min–max':>15} {'MB/s':>7} {'RSS MiB':>8} {'limit':>19} {'ratio':>7}  target / note"
    print(hdr)
    print("-" * len(hdr))
    for name, s, thr, limit_name, limit, ratio, target, note in rows:
        mm = f"{s['min']:.3f}–{s['max']:.3f}"
        lim_s = f"{limit_name} {limit:.3f}" if limit else ""
        print(f"{name:34} {s['median']:8.3f} {mm:>15} {thr or 0:7.0f} {s['rss_mib']:8.1f} {lim_s:>19} "
              f"{(f'{ratio:.2f}×' if ratio else ''):>7}  {target} {note}".rstrip())


if __name__ == "__main__":
    sys.exit(main())
