"""Past 50 packs gc merges them into one; nothing is lost, old packs go only after the grace period."""
from __future__ import annotations

import os
import subprocess
import time

import pygit2

from artvcs.plumbing import gc, manifest, objectbatch, repack
from artvcs.plumbing.manifest import Entry


def _git(gitdir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={gitdir}", *args], check=True, capture_output=True, text=True).stdout


def _many_packs(repo, monkeypatch, n: int) -> list[pygit2.Oid]:
    monkeypatch.setattr(objectbatch, "PACK_MIN", 1)  # every manifest write becomes a pack
    trees = []
    for k in range(n):
        entries = [Entry(f"v{k}/d{f}/f.bin", f"{k:02x}" * 32, f) for f in range(3)]
        trees.append(manifest.write_manifest(repo.git, entries))
    assert len(repack.packs(repo.gitdir)) == n
    return trees


def test_more_than_the_limit_are_merged_and_every_object_stays_readable(repo, monkeypatch):
    trees = _many_packs(repo, monkeypatch, repack.PACK_LIMIT + 2)
    gitdir = repo.gitdir
    before = sorted(str(o) for o in pygit2.OdbBackendPack(os.path.join(gitdir, "objects")))
    assert repack.repack(gitdir, dry_run=True) == repack.PACK_LIMIT + 2
    assert len(repack.packs(gitdir)) == repack.PACK_LIMIT + 2  # the dry run changed nothing
    assert repack.repack(gitdir) == repack.PACK_LIMIT + 2
    (merged,) = repack.packs(gitdir)
    after = sorted(str(o) for o in pygit2.OdbBackendPack(os.path.join(gitdir, "objects")))
    assert after == before
    fresh = pygit2.Repository(gitdir)
    for k, tree in enumerate(trees):
        assert sorted(manifest.read_manifest(fresh, tree)) == [f"v{k}/d{f}/f.bin" for f in range(3)]
        _git(gitdir, "fsck", "--strict", "--no-dangling", str(tree))
    _git(gitdir, "verify-pack", merged + ".idx")
    # the old pack files stay (no index) for readers that read an old index first
    hidden = [p for p in os.listdir(os.path.join(gitdir, "objects", "pack")) if p.endswith(".pack")]
    assert len(hidden) == repack.PACK_LIMIT + 3
    # a sweep within the grace period keeps them; one after it deletes them, and nothing is lost
    assert gc.sweep(repo.store, gitdir, set(), grace_seconds=3600).leftovers == 0
    past = time.time() - 7200
    for name in hidden:
        path = os.path.join(gitdir, "objects", "pack", name)
        if not path.startswith(merged):
            os.utime(path, (past, past))
    assert gc.sweep(repo.store, gitdir, set(), grace_seconds=3600).leftovers == repack.PACK_LIMIT + 2
    assert sorted(os.listdir(os.path.join(gitdir, "objects", "pack"))) == [os.path.basename(merged) + e for e in (".idx", ".pack")]
    for tree in trees:
        manifest.read_manifest(pygit2.Repository(gitdir), tree)


def test_at_the_limit_nothing_is_merged(repo, monkeypatch):
    _many_packs(repo, monkeypatch, repack.PACK_LIMIT)
    assert repack.repack(repo.gitdir) == 0 and len(repack.packs(repo.gitdir)) == repack.PACK_LIMIT


def test_artvcs_gc_merges_and_says_so(repo, monkeypatch, cli):
    import json

    _many_packs(repo, monkeypatch, repack.PACK_LIMIT + 1)
    code, out, _ = cli("gc", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["repacked"] == repack.PACK_LIMIT + 1
    assert len(repack.packs(repo.gitdir)) == repack.PACK_LIMIT + 1
    code, out, _ = cli("gc")
    assert code == 0 and f"merged {repack.PACK_LIMIT + 1} packs of git objects into one" in out
    assert len(repack.packs(repo.gitdir)) == 1
    code, out, _ = cli("fsck")
    assert code == 0, out
