"""gc of chunk packs: partly dead packs rewritten, safe beside writers and readers, and against SIGKILL."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import blake3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunkpacks, chunkprune, chunkstore, packplan
from artvcs.plumbing.errors import CorruptObjectError
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.gc import sweep
from test_chunks import _data, _put

MiB = 1 << 20


def _pack_bytes(repo) -> int:
    folder = chunkstore.packs_dir(repo.store)
    return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder) if n.endswith(".pack"))


def _chunks(repo, digest: str) -> dict[str, int]:
    return dict(chunkstore.read_list(repo.store, digest).chunks)


def _readable(repo, digest: str) -> None:
    with repo.store.open(digest) as f:
        assert blake3.blake3(f.read()).hexdigest() == digest


def _two_versions(repo, tmp_path, seed: int = 1) -> tuple[str, str, bytes]:
    """v1, then v2 with every other 256 KiB of v1 rewritten: most packs of v1 end up partly dead."""
    v1 = _data(8 * MiB, seed)
    d1 = _put(repo, tmp_path, v1, "v1")
    v2 = bytearray(v1)
    for off in range(0, len(v2), 512 * 1024):
        v2[off:off + 256 * 1024] = _data(256 * 1024, seed * 100003 + off)
    d2 = _put(repo, tmp_path, bytes(v2), "v2")
    return d1, d2, v1


def test_gc_rewrites_partly_dead_packs_and_reclaims_their_dead_bytes(repo, tmp_path, small_packs):
    d1, d2, _ = _two_versions(repo, tmp_path)
    live = _chunks(repo, d2)
    live_bytes = sum(live.values())
    before = _pack_bytes(repo)
    packs = chunkstore.local_packs(repo.store)
    partly = [p for p, rows in packs.packs.items()
              if any(d in live for d, _ in rows) and not all(d in live for d, _ in rows)]
    packs.close()
    assert len(partly) >= 4, "the edit should leave several packs partly dead"

    dry = sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0, dry_run=True)
    assert _pack_bytes(repo) == before and dry.rewritten_packs > 0
    result = sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)
    after = _pack_bytes(repo)
    assert result.rewritten_packs == dry.rewritten_packs and d1 in result.removed
    assert not repo.store.has(d1)
    _readable(repo, d2)
    # every pack left is mostly live: the dead bytes left are under the rewrite threshold of each
    packs = chunkstore.local_packs(repo.store)
    for p, rows in packs.packs.items():
        dead = sum(n for d, n in rows if d not in live)
        assert dead < packplan.REWRITE_DEAD_FRACTION * sum(n for _, n in rows), p
    assert set(partly) - set(packs.packs)  # some partly dead packs were replaced
    packs.close()
    reclaimed = before - after
    print(f"\npacks {before} -> {after} bytes (live {live_bytes}): reclaimed {reclaimed}, "
          f"dead left {after - live_bytes}")
    assert after - live_bytes < packplan.REWRITE_DEAD_FRACTION * after
    assert reclaimed == result.freed_bytes  # the bytes reported are the bytes the packs lost
    assert [p for p in fsck(repo) if p.kind != "stale-temp"] == []
    again = sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)
    assert again.rewritten_packs == 0 and _pack_bytes(repo) == after  # stable: nothing left to gain


def test_a_writer_reusing_chunks_of_a_doomed_pack_keeps_them(repo, tmp_path, small_packs, monkeypatch):
    """A writer that found chunks in a pack gc is about to remove (so did not write them) holds the
    chunk lock shared until its list is written; gc removes packs only under the exclusive lock,
    after reading the lists written meanwhile, so the writer's list never names a removed chunk."""
    d1, d2, v1 = _two_versions(repo, tmp_path)
    v3 = v1[2 * MiB:7 * MiB]  # mostly chunks of v1 that v2 no longer has
    waiting = threading.Event()
    real = chunkpacks.exclusive

    def spy(folder, wait_seconds):
        waiting.set()  # gc has listed the lists and written its new packs: it now waits for us
        return real(folder, wait_seconds)

    monkeypatch.setattr(chunkpacks, "exclusive", spy)
    held = chunkstore.local_packs(repo.store)  # a writer at work (it holds the lock from here)
    results = []
    gc = threading.Thread(target=lambda: results.append(sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)))
    gc.start()
    assert waiting.wait(60)
    time.sleep(0.2)
    assert gc.is_alive(), "gc must wait for the writer"
    d3 = _put(repo, tmp_path, v3, "v3")  # reuses chunks of v1 from packs gc has planned to remove
    reused = set(_chunks(repo, d3)) & set(_chunks(repo, d1))
    assert reused
    held.close()
    gc.join(60)
    assert results and d1 in results[0].removed
    _readable(repo, d3)
    _readable(repo, d2)


def test_gc_removes_no_pack_while_a_reader_holds_the_lock(repo, tmp_path, small_packs, monkeypatch):
    d1, d2, _ = _two_versions(repo, tmp_path)
    monkeypatch.setattr(chunkprune, "LOCK_WAIT_SECONDS", 0.3)
    before = set(os.listdir(chunkstore.packs_dir(repo.store)))
    with repo.store.open(d1) as reader:  # a checkout of the old version, under way
        head = reader.read(MiB)
        result = sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)
        assert result.kept_busy > 0 and d1 not in result.removed
        assert before <= set(os.listdir(chunkstore.packs_dir(repo.store)))  # new packs only added
        rest = reader.read()
    assert blake3.blake3(head + rest).hexdigest() == d1
    after = sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)  # the next gc, undisturbed, collects
    assert d1 in after.removed and after.kept_busy == 0
    _readable(repo, d2)


def test_a_corrupt_live_chunk_keeps_its_pack_and_stays_an_error(repo, tmp_path, small_packs):
    d1, d2, _ = _two_versions(repo, tmp_path)
    packs = chunkstore.local_packs(repo.store)
    live = _chunks(repo, d2)
    plan = packplan.plan(packs.packs, set(live), set())
    victim, rows = next(iter(plan.rewrite.items()))
    c, off, n = rows[0]
    path = packs.path(victim)
    packs.close()
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(off + n // 2)
        b = f.read(1)
        f.seek(off + n // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)
    assert os.path.exists(path)  # not rewritten: its bad chunk is not copied, nor is the pack dropped
    with pytest.raises(CorruptObjectError, match=f"content {d2}: chunk [0-9]+ of [0-9]+ \\({c}"):
        _readable(repo, d2)
    with pytest.raises(CorruptObjectError, match=f"\\({c}, {n} bytes\\) is corrupt in pack {victim}"):
        repo.store.verify(d2)


GC = textwrap.dedent(
    """
    import sys
    from artvcs.plumbing import chunkpacks, repository
    from artvcs.plumbing.gc import sweep
    chunkpacks.PACK_BYTES = 1 << 20
    repo = repository.Repository(sys.argv[1])
    print("ready", flush=True)
    sweep(repo.store, repo.gitdir, set(sys.argv[2].split(",")), grace_seconds=0)
    print("done", flush=True)
    """
)


def test_sigkill_during_gc_loses_no_live_chunk(repo, tmp_path, small_packs):
    rnd = random.Random(11)
    kept = []
    for round_ in range(5):
        d1, d2, _ = _two_versions(repo, tmp_path, seed=round_ + 1)
        kept.append(d2)
        p = subprocess.Popen([sys.executable, "-c", GC, repo.gitdir, ",".join(kept)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.0, 0.6))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        for d in kept:  # every live file reads back whole, whatever instant the kill hit
            _readable(repo, d)
        assert [q for q in fsck(repo) if q.kind not in ("stale-temp",)] == []
    live = {c: n for d in kept for c, n in _chunks(repo, d).items()}
    sweep(repo.store, repo.gitdir, set(kept), grace_seconds=0)  # a gc that runs to its end mends it all
    for d in kept:
        _readable(repo, d)
    after = _pack_bytes(repo)
    assert after - sum(live.values()) < packplan.REWRITE_DEAD_FRACTION * after


# -- the plan -----------------------------------------------------------------------------------------
_D = [f"{i:02x}" * 32 for i in range(12)]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([f"{i:040x}" for i in range(6)]),
                       st.lists(st.tuples(st.sampled_from(_D), st.integers(1, 100)), min_size=1, max_size=8),
                       max_size=6),
       st.sets(st.sampled_from(_D)), st.sets(st.integers(0, 5)))
def test_plan_keeps_every_live_chunk_in_a_pack_that_stays_or_is_copied(packs, live, young_i):
    young = {f"{i:040x}" for i in young_i} & set(packs)
    got = packplan.plan(packs, live, young)
    assert not set(got.drop) & set(got.rewrite) and not (set(got.drop) | set(got.rewrite)) & young
    staying = {d for p, rows in packs.items() if p not in got.drop and p not in got.rewrite for d, _ in rows}
    copied = [d for rows in got.rewrite.values() for d, _, _ in rows]
    assert len(copied) == len(set(copied))  # each live chunk copied once
    held = {d for rows in packs.values() for d, _ in rows}
    assert live & held <= staying | set(copied)
    for p, rows in got.rewrite.items():
        offs = [0]
        for _, n in packs[p]:
            offs.append(offs[-1] + n)
        for d, off, n in rows:  # the offsets are where the chunk is in the pack
            assert (d, n) == packs[p][offs.index(off)] and d in live


def test_plan_drops_an_old_pack_beside_the_new_pack_a_killed_gc_wrote():
    old = [(_D[0], 10), (_D[1], 90), (_D[2], 10)]
    new = [(_D[0], 10), (_D[2], 10)]
    got = packplan.plan({"a" * 40: old, "b" * 40: new}, {_D[0], _D[2]}, set())
    assert got.drop == ["a" * 40] and got.rewrite == {}
    got = packplan.plan({"a" * 40: old}, {_D[0], _D[2]}, set())
    assert got.rewrite == {"a" * 40: [(_D[0], 0, 10), (_D[2], 100, 10)]} and got.dead_bytes == {"a" * 40: 90}
    mostly_live = [(_D[0], 80), (_D[1], 20)]  # 20 % dead: under the threshold, kept whole
    assert packplan.plan({"a" * 40: mostly_live}, {_D[0]}, set()) == packplan.PackPlan([], {}, {})


# -- SIGKILL during a chunked log -----------------------------------------------------------------
# Logs versions of a large file, each with scattered edits of the last, forever; with "delete" it
# also deletes the version before the last (in many small packs, so gc has some to rewrite).
CHUNKED_LOGGER = textwrap.dedent(
    """
    import os, random, sys
    os.chdir(sys.argv[1])
    from artvcs.plumbing import chunkpacks
    if sys.argv[3] == "delete":
        chunkpacks.PACK_BYTES = 1 << 20
    import artvcs
    artvcs.init, artvcs.Artifact  # loaded before the kills start, so they land in writes
    rnd = random.Random(int(sys.argv[2]))
    data = bytearray(rnd.randbytes(6 << 20))
    n = 0
    print("ready", flush=True)
    while True:
        for _ in range(6):  # scattered edits: each version shares most chunks with the last
            at = rnd.randrange(len(data) - 65536)
            data[at:at + 65536] = rnd.randbytes(65536)
        with artvcs.init(job_type="crash") as run:
            a = artvcs.Artifact("big", "dataset")
            with a.new_file("big.bin", mode="wb") as f:
                f.write(data)
            run.log_artifact(a)
        if sys.argv[3] == "delete" and n >= 1:
            artvcs.Api().artifact(f"big:v{n - 1}").delete(delete_aliases=True)
        n += 1
    """
)


def test_sigkill_during_a_chunked_log_loses_nothing_committed(repo_dir):
    from artvcs.plumbing import versions
    from artvcs.plumbing.manifest import iter_entries
    from artvcs.plumbing.refs import CollectionId
    from artvcs.plumbing.repository import Repository

    gitdir = str(repo_dir / ".artifacts")
    rnd = random.Random(13)
    seen: dict[int, str] = {}
    verified: set[str] = set()
    for round_ in range(6):
        p = subprocess.Popen([sys.executable, "-c", CHUNKED_LOGGER, str(repo_dir), str(round_), "keep"],
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.2, 2.0))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        repo = Repository(gitdir)
        try:
            assert [q for q in fsck(repo) if q.kind not in ("stale-temp", "lagging-tip")] == []
            now = {v.number: str(v.manifest) for v in versions.iter_versions(repo.git, CollectionId("me", "proj", "big"))}
            assert seen.items() <= now.items(), "nothing committed is lost"
            seen = now
            for d in set(chunkstore.iter_lists(repo.store)) - verified:  # every list present rebuilds, verified
                repo.store.verify(d)  # (committed files among them: fsck found their lists)
                verified.add(d)
        finally:
            repo.close()
    assert seen, "the logger should have committed something"
    gc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "artvcs"), "gc", "--grace", "0", "--json"],
                        cwd=str(repo_dir), capture_output=True, text=True)
    assert gc.returncode == 0, gc.stderr
    repo = Repository(gitdir)
    try:
        assert [q for q in fsck(repo, full=True) if q.kind not in ("lagging-tip",)] == []
        named = set()
        for v in versions.iter_versions(repo.git, CollectionId("me", "proj", "big")):
            for e in iter_entries(repo.git, v.manifest):
                repo.store.verify(e.digest)
                named.add(e.digest)
        # what the killed logs left unreferenced went (a named file may be whole: the first version, or
        # one whose log was killed before its conversion to chunks; verified above either way)
        assert set(chunkstore.iter_lists(repo.store)) <= named
    finally:
        repo.close()


@pytest.mark.parametrize("lie", ["swapped", "resized"])
def test_a_local_pack_index_that_lies_is_an_error_naming_file_and_chunk(repo, tmp_path, lie):
    """An index well-formed and named by its own hash, but wrong about its pack: the chunk it misplaces
    is named, never served."""
    d = _put(repo, tmp_path, _data(6 * MiB, 3))
    lst = chunkstore.read_list(repo.store, d)
    packs = chunkstore.local_packs(repo.store)
    (name,) = packs.packs
    rows = list(packs.packs[name])
    pack, idx = packs.path(name), packs.path(name, "idx")
    packs.close()
    i = next(k for k in range(len(rows) - 1) if rows[k][1] != rows[k + 1][1])
    if lie == "swapped":
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
        named = f"chunk {i + 1} of {len(lst.chunks)} \\({rows[i + 1][0]}, {rows[i + 1][1]} bytes\\) is corrupt in pack"
    else:
        rows[i], rows[i + 1] = (rows[i][0], rows[i][1] + 1), (rows[i + 1][0], rows[i + 1][1] - 1)
        named = f"chunk {i + 1} of {len(lst.chunks)} \\({rows[i][0]}, {rows[i][1] - 1} bytes\\) is {rows[i][1]} bytes"
    data = chunkpacks.encode_idx(rows)
    new = chunkpacks.idx_name(data)
    folder = chunkstore.packs_dir(repo.store)
    os.rename(pack, os.path.join(folder, f"{new}.pack"))
    with open(os.path.join(folder, f"{new}.idx"), "wb") as f:
        f.write(data)
    os.unlink(idx)
    with pytest.raises(CorruptObjectError, match=f"content {d}: {named}"):
        repo.store.verify(d)
    out = tmp_path / "out.bin"
    with pytest.raises(CorruptObjectError, match=f"content {d}: {named}"):
        with repo.store.open(d) as f, open(out, "wb") as o:
            while b := f.read(MiB):
                o.write(b)


def test_gc_rewriting_packs_beside_a_writer_reusing_their_chunks(repo_dir):
    """A process logs versions of a large file (each reusing most chunks of the last) and deletes the
    one before, while gc runs again and again with no grace period, rewriting and removing packs
    the writer is reusing chunks from: every version left reads back whole and fsck is clean."""
    from artvcs.plumbing import versions
    from artvcs.plumbing.manifest import iter_entries
    from artvcs.plumbing.refs import CollectionId
    from artvcs.plumbing.repository import Repository

    p = subprocess.Popen([sys.executable, "-c", CHUNKED_LOGGER, str(repo_dir), "3", "delete"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        artvcs_bin = os.path.join(os.path.dirname(sys.executable), "artvcs")
        rewritten = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            gc = subprocess.run([artvcs_bin, "gc", "--grace", "0", "--json"], cwd=str(repo_dir),
                                capture_output=True, text=True)
            assert gc.returncode == 0, gc.stderr
            rewritten += json.loads(gc.stdout)["rewritten_chunk_packs"]
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    repo = Repository(str(repo_dir / ".artifacts"))
    try:
        live = versions.iter_versions(repo.git, CollectionId("me", "proj", "big"))
        assert live, "the writer should have logged versions"
        for v in live:
            for e in iter_entries(repo.git, v.manifest):
                repo.store.verify(e.digest)
        assert [q for q in fsck(repo, full=True) if q.kind not in ("stale-temp", "lagging-tip")] == []
    finally:
        repo.close()
    print(f"\n{len(live)} versions left, {rewritten} packs rewritten by the gcs")
