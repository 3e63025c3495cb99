"""Manifests far deeper than Python's recursion limit are written, read, diffed, checked and checked out.

The walks over manifest trees keep their own stacks (artvcs-format(5),
MANIFEST ENCODING: there is no depth limit), so a version artvcs logged can
always be read back, whichever command reads it.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from artvcs.plumbing import manifest, refs, versions
from artvcs.plumbing.checkout import materialize, verify_folder
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.remote.packs import new_objects

DEPTH = sys.getrecursionlimit() + 100  # 1,100 folders: a recursive walk would fail


@pytest.fixture
def deep(repo):
    """A version ``deep:v0`` whose one file lies DEPTH folders down, and one beside it at the top."""
    d1 = repo.store.put_bytes(b"bottom\n")
    d2 = repo.store.put_bytes(b"top\n")
    folder = "/".join(["d"] * DEPTH)
    entries = [Entry(f"{folder}/bottom.txt", d1, 7), Entry("top.txt", d2, 4)]
    tree = manifest.write_manifest(repo.git, entries)
    digest, size, count = manifest.summarize(entries)
    v = versions.commit_version(repo.git, refs.CollectionId("me", "proj", "deep"), tree,
                                versions.version_facts("dataset", digest, size, count))
    return v, entries


def test_read_update_and_diff(deep, repo):
    v, entries = deep
    assert sorted(manifest.iter_entries(repo.git, v.manifest), key=lambda e: e.path) == sorted(entries, key=lambda e: e.path)
    prefix = "/".join(["d"] * (DEPTH // 2))
    assert [e.path for e in manifest.iter_entries(repo.git, v.manifest, prefix)] == [entries[0].path]
    assert manifest.lookup(repo.git, v.manifest, entries[0].path) == entries[0]
    deeper = Entry(entries[0].path.replace("bottom.txt", "more.txt"), "a" * 64, 1)
    new = manifest.update_manifest(repo.git, v.manifest, {deeper.path: deeper, "top.txt": None})
    assert manifest.read_manifest(repo.git, new) == {entries[0].path: entries[0], deeper.path: deeper}
    assert new == manifest.write_manifest(repo.git, [entries[0], deeper])
    diff = {p: (a, b) for p, a, b in manifest.diff_manifests(repo.git, v.manifest, new)}
    assert diff == {deeper.path: (None, deeper), "top.txt": (entries[1], None)}
    assert manifest.update_manifest(repo.git, new, {deeper.path: None, entries[0].path: None}) == manifest.empty_tree(repo.git)


def test_ls_manifest_and_fsck(deep, cli):
    v, entries = deep
    r = cli("ls-manifest", "deep:v0")
    assert r.code == 0 and r.err == ""
    assert [line.split("\t")[2] for line in r.out.splitlines()] == sorted(e.path for e in entries)
    assert cli("fsck") == (0, "", "")


@pytest.fixture
def outside(tmp_path):
    """A folder for deep checkouts, removed with rm -rf (Python 3.11's shutil.rmtree, which pytest uses, recurses)."""
    folder = tmp_path / "deep-out"
    folder.mkdir()
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=True)


def test_checkout_and_verify(deep, repo, outside, cli):
    v, entries = deep
    tmp_path = outside
    target = tmp_path / "out"
    materialize(repo.store, list(manifest.iter_entries(repo.git, v.manifest)), str(target), mode="copy")
    assert (target / entries[0].path).read_bytes() == b"bottom\n"
    assert verify_folder(entries, str(target)) == []
    other = tmp_path / "cli"
    r = cli("checkout", "deep:v0", str(other))
    assert r.code == 0, r.err
    assert (other / entries[0].path).read_bytes() == b"bottom\n"
    assert cli("verify", "deep:v0", str(other)).code == 0


def test_push_walk(deep, repo):
    v, _ = deep
    objects = new_objects(repo.git, [v.commit], [])
    assert len(objects) == len(set(objects)) == 1 + 2 + DEPTH + 2 + 1  # commit, its tree and facts, folders, 2 listings, root
    assert v.manifest in objects and all(oid in repo.git for oid in objects)



def test_log_and_mktree_of_a_deep_folder(repo, outside, cli):
    folder = outside / "src"
    path = folder
    path.mkdir()
    for _ in range(DEPTH):  # os.makedirs recurses: one level at a time
        path = path / "d"
        path.mkdir()
    (path / "leaf.txt").write_text("leaf\n")
    r = cli("log", str(folder), "--name", "deeplog", "--type", "dataset")
    assert r.code == 0, r.err
    listing = cli("ls-manifest", "deeplog:v0").out
    assert listing.count("\t") == 2 and listing.strip().endswith("/d/leaf.txt")
    r = cli("mktree", input=listing)
    assert r.code == 0, r.err
    logged = versions.read_version(repo.git, refs.read(repo.git, refs.CollectionId("me", "proj", "deeplog").version_ref(0)))
    assert r.out.strip() == str(logged.manifest)
