"""One benchmark operation in a fresh interpreter: prints JSON {seconds, rss_kib, extra}."""
from __future__ import annotations

import json
import os
import resource
import sys
import time


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def op_raw_blake3(path: str) -> dict:
    import blake3

    t = time.perf_counter()
    h = blake3.blake3(max_threads=blake3.blake3.AUTO)
    h.update_mmap(path)
    h.hexdigest()
    return {"seconds": time.perf_counter() - t}


def op_read(path: str) -> dict:
    t = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(8 << 20)
        while f.readinto(buf):
            pass
    return {"seconds": time.perf_counter() - t}


class AnonPeak:
    """Samples RssAnon (heap, not page cache or mapped file pages) in the background; keeps the peak."""

    def __init__(self) -> None:
        import threading

        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    self.peak = max(self.peak, int(line.split()[1]))

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self._sample()

    def __enter__(self):
        self._sample()
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self._sample()


def op_hash(path: str) -> dict:
    """Timed alone, as raw_blake3 is; the heap is sampled on a second, untimed pass (the
    sampler thread would otherwise take CPU from blake3's threads on a 2-core machine)."""
    from artvcs.plumbing.hashing import hash_file

    t = time.perf_counter()
    hash_file(path)
    seconds = time.perf_counter() - t
    with AnonPeak() as mem:
        hash_file(path)
    return {"seconds": seconds, "extra": {"peak_anon_mib": round(mem.peak / 1024, 1)}}


def _project(proj: str):
    os.chdir(proj)
    from artvcs.plumbing.repository import init_repository

    return init_repository(proj, entity="bench", project="bench")


def op_log(proj: str, src: str, policy: str, fsync: bool = True) -> dict:
    _project(proj)
    if not fsync:
        os.environ["ARTVCS_FSYNC"] = "0"
    import artvcs

    t = time.perf_counter()
    with artvcs.init(job_type="bench") as run:
        a = artvcs.Artifact("data", type="dataset")
        a.add_dir(src, policy=policy)
        run.log_artifact(a)
    return {"seconds": time.perf_counter() - t, "extra": {"version": a.version, "files": a.file_count}}


def op_checkout(proj: str, dst: str, mode: str, verify: bool = True) -> dict:
    _project(proj)
    import artvcs
    from artvcs.logged import materialize

    art = artvcs.Api().artifact("data:latest")
    art.manifest  # the manifest read is not what is measured here
    t = time.perf_counter()
    result = materialize.checkout(art, dst, mode=mode, verify=verify)
    seconds = time.perf_counter() - t
    used = getattr(result, "mode", None) if not isinstance(result, str) else None
    return {"seconds": seconds, "extra": {"mode": used or mode}}


def op_verify(proj: str, dst: str) -> dict:
    _project(proj)
    import artvcs

    art = artvcs.Api().artifact("data:latest")
    art.manifest
    t = time.perf_counter()
    art.verify(dst)
    return {"seconds": time.perf_counter() - t}


def op_diff(proj: str) -> dict:
    _project(proj)
    import artvcs
    from artvcs.plumbing import manifest

    api = artvcs.Api()
    a, b = api.artifact("data:v0"), api.artifact("data:v1")
    repo = a._context.repo.git
    t = time.perf_counter()
    changes = list(manifest.diff_manifests(repo, a._source.manifest, b._source.manifest))
    return {"seconds": time.perf_counter() - t, "extra": {"changed": len(changes)}}


def op_million(proj: str, n: int) -> dict:
    """Build, list, update and diff an n-entry manifest (1,000 files per folder); its tree id is
    kept for :func:`op_million_checkout`, which runs in a fresh process so that its peak memory
    is the checkout's own. The tree is also committed as version ``data:v0`` (as a log would,
    untimed) for :func:`op_million_cli` and :func:`op_million_download`."""
    repo = _project(proj)
    from artvcs.plumbing import manifest
    from artvcs.plumbing.manifest import Entry

    # one small stored file per folder of 1,000 entries: every folder's listing differs, as in real data
    contents = [f"{k}\n".encode() for k in range((n + 999) // 1000)]
    digests = [repo.store.put_bytes(c) for c in contents]
    t0 = time.perf_counter()
    entries = (Entry(f"f{i // 1000:04d}/e{i % 1000:04d}.bin", digests[i // 1000], len(contents[i // 1000])) for i in range(n))
    tree = manifest.write_manifest(repo.git, entries)
    t1 = time.perf_counter()
    count = sum(1 for _ in manifest.iter_entries(repo.git, tree))
    t2 = time.perf_counter()
    new = manifest.update_manifest(repo.git, tree, {"f0000/e0000.bin": Entry("f0000/e0000.bin", "cd" * 32, 1)})
    t3 = time.perf_counter()
    changed = list(manifest.diff_manifests(repo.git, tree, new))
    t4 = time.perf_counter()
    digest_all = manifest.manifest_digest(manifest.iter_entries(repo.git, new))
    t5 = time.perf_counter()
    assert count == n and len(changed) == 1 and digest_all
    _commit_version(repo, tree, n, sum(len(contents[i // 1000]) for i in range(n)))
    return {
        "seconds": t5 - t0,
        "extra": {"build": t1 - t0, "list": t2 - t1, "update 1 entry": t3 - t2, "diff": t4 - t3, "digest": t5 - t4,
                  "tree": str(tree)},
    }


def op_million_checkout(proj: str, tree: str, n: int) -> dict:
    """Check the n-entry manifest out (copies: n files created, verified), then check it out again
    onto the up-to-date folder; entries stream from the manifest (plumbing's streamed path: the
    binding's ``materialize`` hands checkout a list it keeps, so ``artvcs checkout`` holds its
    entries once more, about 300 B each — not measured here)."""
    repo = _project(proj)
    import pygit2

    from artvcs.plumbing import checkout, manifest

    oid = pygit2.Oid(hex=tree)
    dst = os.path.join(proj, "checkout")
    t0 = time.perf_counter()
    first = checkout.materialize(repo.store, manifest.iter_entries(repo.git, oid), dst, mode="copy", prune=True,
                                 statcache=repo.statcache)
    t1 = time.perf_counter()
    again = checkout.materialize(repo.store, manifest.iter_entries(repo.git, oid), dst, mode="copy", prune=True,
                                 statcache=repo.statcache)
    t2 = time.perf_counter()
    assert first.written == n and again.up_to_date == n, (first, again)
    return {"seconds": t2 - t0, "extra": {"check out (copy)": t1 - t0, "check out again": t2 - t1}}


def _commit_version(repo, tree, n: int, size: int) -> None:
    from artvcs.plumbing import manifest, versions
    from artvcs.plumbing.refs import CollectionId

    digest = manifest.manifest_digest(manifest.iter_entries(repo.git, tree))
    versions.commit_version(repo.git, CollectionId("bench", "bench", "data"), tree,
                            versions.version_facts("dataset", digest, size, n))


def op_million_cli(proj: str, n: int) -> dict:
    """``artvcs checkout --link copy data:latest`` of the n-entry version (:func:`op_million`)
    into a new folder, then again onto it (up to date): whole commands, each its own process,
    whose peak RSS (the child's ru_maxrss, as /usr/bin/time -v reports it) is this row's."""
    import subprocess

    _project(proj)
    exe = os.path.join(os.path.dirname(sys.executable), "artvcs")
    dst = os.path.join(proj, "cli")
    out: dict = {}
    peaks = []
    for what, expect in (("artvcs checkout (copy)", f"{n} written"), ("artvcs checkout again", f"{n} up to date")):
        t = time.perf_counter()
        done = subprocess.run([exe, "checkout", "--link", "copy", "data:latest", dst], capture_output=True, text=True)
        out[what] = time.perf_counter() - t
        if done.returncode != 0 or expect not in done.stdout:
            raise RuntimeError(f"{what}: {done.stdout}{done.stderr[-2000:]}")
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # the largest child's so far
    out["peak MiB, first"], out["peak MiB, again"] = round(peaks[0] / 1024, 1), round(peaks[1] / 1024, 1)
    return {"seconds": sum(v for k, v in out.items() if "MiB" not in k), "extra": out}


def op_million_download(proj: str, n: int) -> dict:
    """``Artifact.download()`` of the n-entry version into a new folder, in this fresh process:
    its peak RSS is the download's (with the interpreter and artvcs loaded)."""
    _project(proj)
    import artvcs

    dst = os.path.join(proj, "download")
    t = time.perf_counter()
    artvcs.Api().artifact("data:latest").download(dst)
    seconds = time.perf_counter() - t
    assert sum(len(fs) for _, _, fs in os.walk(dst)) == n
    return {"seconds": seconds, "extra": {"Artifact.download()": seconds}}


def profiled(fn, args: dict, where: str) -> dict:
    """Run ``fn`` under pyinstrument (the ``bench`` extra) and write its call tree to ``where``.
    The figures of a profiled run include the profiler's own cost: read its shares, not its seconds."""
    from pyinstrument import Profiler

    prof = Profiler(interval=0.0005)
    prof.start()
    out = fn(**args)
    prof.stop()
    with open(where, "w") as f:
        f.write(prof.output_text(unicode=True, color=False, show_all=False))
    return out


if __name__ == "__main__":
    op, args = sys.argv[1], json.loads(sys.argv[2])
    where = sys.argv[3] if len(sys.argv) > 3 else None
    os.sync()  # bill no operation for the dirty pages of the one before it
    fn = globals()[f"op_{op}"]
    out = profiled(fn, args, where) if where else fn(**args)
    out["rss_kib"] = rss_kib()
    print(json.dumps(out))
