"""Manifest objects written as one pack (many) or loose (few), and read back by git and libgit2."""
from __future__ import annotations

import os
import subprocess
import threading
import time
import zlib

import pygit2

from artvcs.plumbing import gc, manifest
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.objectbatch import PACK_MIN, TMP_PREFIXES, ObjectBatch, tree_bytes

DIGEST = "ab" * 32


def _pack_files(gitdir: str) -> list[str]:
    return sorted(os.listdir(os.path.join(gitdir, "objects", "pack")))


def _loose(gitdir: str) -> set[str]:
    root = os.path.join(gitdir, "objects")
    return {d + n for d in os.listdir(root) if len(d) == 2 for n in os.listdir(os.path.join(root, d))}


def _git(gitdir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={gitdir}", *args], check=True, capture_output=True, text=True).stdout


def test_many_folders_become_one_pack_that_git_and_libgit2_read(repo):
    git, gitdir = repo.git, repo.gitdir
    before = _loose(gitdir)
    entries = [Entry(f"d{f:03d}/sub/f{i}.bin", DIGEST, f * 10 + i) for f in range(60) for i in range(5)]
    tree = manifest.write_manifest(git, entries)
    packs = _pack_files(gitdir)
    assert len(packs) == 2 and packs[0].endswith(".idx") and packs[1].endswith(".pack")
    assert _loose(gitdir) == before  # nothing written loose
    idx = os.path.join(gitdir, "objects", "pack", packs[0])
    listed = [line.split()[:2] for line in _git(gitdir, "verify-pack", "-v", idx).splitlines() if len(line.split()) >= 5]
    # one listing blob per folder, a tree per folder and per sub/, and the root
    assert sorted(kind for _, kind in listed).count("blob") == 60
    assert sorted(kind for _, kind in listed).count("tree") == 121
    assert str(tree) in {oid for oid, _ in listed}
    # the same repository object and a fresh one both read every entry back
    assert list(manifest.iter_entries(git, tree)) == sorted(entries, key=lambda e: e.path)
    assert manifest.read_manifest(pygit2.Repository(gitdir), tree) == {e.path: e for e in entries}
    # git accepts it: tree order, headers, index checksums
    _git(gitdir, "fsck", "--strict", "--no-dangling", str(tree))
    assert _git(gitdir, "ls-tree", "-r", "--name-only", str(tree)).count("%files") == 60


def test_few_new_objects_stay_loose_and_known_ones_are_not_written_again(repo):
    git, gitdir = repo.git, repo.gitdir
    entries = [Entry(f"d{f:03d}/f.bin", DIGEST, f) for f in range(PACK_MIN)]
    tree = manifest.write_manifest(git, entries)
    assert len(_pack_files(gitdir)) == 2
    loose = _loose(gitdir)
    # one changed folder: its listing, its tree and the root: loose
    new = manifest.update_manifest(git, tree, {"d007/f.bin": Entry("d007/f.bin", "cd" * 32, 1)})
    assert len(_loose(gitdir) - loose) == 3 and len(_pack_files(gitdir)) == 2
    assert manifest.read_manifest(git, new)["d007/f.bin"].digest == "cd" * 32
    # writing the same manifest again writes nothing, and a batch given a known tree gathers nothing
    before = set(_loose(gitdir)), _pack_files(gitdir)
    assert manifest.write_manifest(git, entries) == tree
    assert (set(_loose(gitdir)), _pack_files(gitdir)) == before
    batch = ObjectBatch(git)
    assert batch.tree([(e.name, e.id, e.filemode) for e in git[tree]]) == tree and len(batch) == 0


def test_tree_bytes_match_libgit2_order_and_ids(repo):
    git = repo.git
    blob = git.create_blob(b"x")
    sub = git.TreeBuilder().write()
    # git orders a subtree "a" as "a/", after "a.b" and "a-b" but before "a0"
    items = [("a0", blob, manifest.BLOB), ("a", sub, manifest.TREE), ("a.b", blob, manifest.BLOB),
             ("a-b", blob, manifest.BLOB), ("%files", blob, manifest.BLOB), ("ü", sub, manifest.TREE)]
    tb = git.TreeBuilder()
    for name, oid, mode in items:
        tb.insert(name, oid, mode)
    expected = tb.write()
    batch = ObjectBatch(git)
    assert batch.tree(items) == expected and len(batch) == 0  # libgit2 wrote it already
    assert git[expected].read_raw() == tree_bytes(items)


def test_gc_removes_stale_half_written_packs_only(repo):
    pack_dir = os.path.join(repo.gitdir, "objects", "pack")
    os.makedirs(pack_dir, exist_ok=True)
    old, young = (os.path.join(pack_dir, f"{TMP_PREFIXES[0]}1-{t}") for t in ("aaaaaaaaaaaa", "bbbbbbbbbbbb"))
    old_idx = os.path.join(pack_dir, f"{TMP_PREFIXES[1]}1-aaaaaaaaaaaa")
    for p in (old, young, old_idx):
        with open(p, "wb") as f:
            f.write(b"PACK")
    past = time.time() - 7200
    os.utime(old, (past, past))
    os.utime(old_idx, (past, past))
    result = gc.sweep(repo.store, repo.gitdir, set(), grace_seconds=3600)
    assert result.leftovers == 2
    assert not os.path.exists(old) and not os.path.exists(old_idx) and os.path.exists(young)


def test_a_batch_that_reaches_its_byte_limit_is_written_as_several_packs(repo, monkeypatch):
    from artvcs.plumbing import objectbatch

    monkeypatch.setattr(objectbatch, "MAX_BYTES", 100 * 1024)  # about 60 folders a pack
    git, gitdir = repo.git, repo.gitdir
    entries = [Entry(f"d{f:03d}/f{i:02d}.bin", DIGEST, f * 100 + i) for f in range(150) for i in range(20)]
    tree = manifest.write_manifest(git, entries)
    packs = [p for p in _pack_files(gitdir) if p.endswith(".idx")]
    assert len(packs) > 1
    assert manifest.read_manifest(pygit2.Repository(gitdir), tree) == {e.path: e for e in entries}
    _git(gitdir, "fsck", "--strict", "--no-dangling", str(tree))


def test_a_pack_compressed_by_threads_is_the_one_compressed_in_one(tmp_path, monkeypatch):
    # the objects are compressed from several threads (objectbatch._deflate); the pack's bytes,
    # and so its name, are those of the one-thread pack, and git reads every object back
    from artvcs.plumbing import objectbatch

    objects = {}
    for i in range(300):
        data = (f"listing {i}\n" * (50 + i)).encode()
        objects[objectbatch.object_id(pygit2.GIT_OBJECT_BLOB, data)] = (pygit2.GIT_OBJECT_BLOB, data)
    monkeypatch.setattr(objectbatch.os, "cpu_count", lambda: 4)
    real, callers = zlib.compress, set()
    monkeypatch.setattr(zlib, "compress", lambda data, level: (callers.add(threading.get_ident()), real(data, level))[1])
    names, threads = [], []
    for minimum in (10**9, 64):
        monkeypatch.setattr(objectbatch, "DEFLATE_MIN", minimum)
        callers.clear()
        pack_dir = tmp_path / f"min{minimum}" / "objects" / "pack"
        names.append(objectbatch.write_pack(str(pack_dir), objects))
        threads.append((len(callers - {threading.get_ident()}), threading.get_ident() in callers))
        gitdir = str(pack_dir.parent.parent)
        _git(gitdir, "init", "-q", "--bare")
        out = _git(gitdir, "verify-pack", "-v", str(pack_dir / f"pack-{names[-1]}.idx"))
        assert sum(1 for line in out.splitlines() if " blob " in line) == 300
    # the caller's thread alone, then pool threads alone (how many of them take the 4 slices is the
    # executor's affair: an idle worker is given the next slice, so on a busy machine one may take all)
    assert threads[0] == (0, True) and threads[1][0] >= 1 and threads[1][1] is False
    assert names[0] == names[1]
