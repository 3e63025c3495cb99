"""Listing refs by folder (the files backend read directly) agrees with libgit2's own iterator,
with loose refs, packed refs (real ``git pack-refs``), a loose ref overriding a packed one, and deletions."""
from __future__ import annotations

import subprocess
import time

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import refs, versions
from artvcs.plumbing.refs import CollectionId


def _libgit2(git: pygit2.Repository, prefix: str) -> list[tuple[str, pygit2.Oid]]:
    return sorted((r.name, r.target) for r in git.references.iterator() if r.name.startswith(prefix))


def _commit(git: pygit2.Repository, n: int) -> pygit2.Oid:
    sig = pygit2.Signature("t", "t@t", 1_700_000_000 + n, 0)
    return git.create_commit(None, sig, sig, f"c{n}", git.TreeBuilder().write(), [])


@pytest.mark.parametrize("pack", [False, True])
def test_folder_listing_matches_libgit2(repo, pack):
    git = repo.git
    colls = [CollectionId("me", "p", "a"), CollectionId("me", "p", "b b%"), CollectionId("you", "q", "a")]
    for i, c in enumerate(colls):
        for n in range(3):
            refs.update(git, c.version_ref(n), _commit(git, 10 * i + n), None, "v")
        refs.update(git, c.alias_ref("best/ü"), _commit(git, 100 + i), None, "alias")
    if pack:
        subprocess.run(["git", "--git-dir", repo.gitdir, "pack-refs", "--all"], check=True)
        # a loose ref written after packing overrides its packed value; a deleted one is gone from both
        refs.update(git, colls[0].version_ref(1), _commit(git, 999), refs.read(git, colls[0].version_ref(1)), "moved")
        refs.update(git, colls[1].version_ref(2), None, refs.read(git, colls[1].version_ref(2)), "deleted")
    for prefix in ["refs/versions/", "refs/aliases/", colls[0].versions_prefix, colls[1].aliases_prefix, "refs/versions/me/", "refs/nothing/"]:
        assert list(refs.iter_refs(git, prefix)) == _libgit2(git, prefix), prefix
        assert refs.iter_ref_names(git, prefix) == [n for n, _ in _libgit2(git, prefix)]
    assert refs.iter_ref_folders(git, "refs/versions/", 3) == {f"refs/versions/{c._path}" for c in colls}
    assert versions.live_numbers(git, colls[1]) == ([0, 1] if pack else [0, 1, 2])
    assert versions.iter_collections(git) == sorted(colls, key=str)


def test_a_collection_whose_refs_are_all_gone_is_not_listed(repo):
    git = repo.git
    c = CollectionId("me", "p", "gone")
    oid = _commit(git, 1)
    refs.update(git, c.version_ref(0), oid, None, "v")
    refs.update(git, c.version_ref(0), None, oid, "deleted")
    assert refs.iter_ref_folders(git, "refs/versions/", 3) == set()
    assert versions.iter_collections(git) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.binary(max_size=60))
def test_garbage_ref_files_are_skipped_not_fatal(repo, packed, loose):
    """A packed-refs file and a loose ref holding anything: listing returns what parses, never raises."""
    import os

    folder = os.path.join(repo.gitdir, "refs", "versions", "me", "p", "g")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "v0"), "wb") as f:
        f.write(loose)
    with open(os.path.join(repo.gitdir, "packed-refs"), "wb") as f:
        f.write(packed)
    try:
        found = list(refs.iter_refs(repo.git, "refs/versions/"))
        assert all(isinstance(o, pygit2.Oid) for _, o in found)
        refs.iter_ref_names(repo.git, "refs/versions/")
        refs.iter_ref_folders(repo.git, "refs/versions/", 3)
    finally:
        os.remove(os.path.join(folder, "v0"))
        os.remove(os.path.join(repo.gitdir, "packed-refs"))


def test_folder_stamp_changes_with_every_ref_write(repo, monkeypatch):
    git = repo.git
    c = CollectionId("me", "p", "s")
    a, b = _commit(git, 1), _commit(git, 2)
    assert refs.folder_stamp(git, c.versions_prefix + "x/") is not None  # no such folder: a stable stamp
    refs.update(git, c.version_ref(0), a, None, "create")
    assert refs.folder_stamp(git, c.versions_prefix) is None  # written just now: racy, not to be cached
    monkeypatch.setattr(refs, "RACY_SECONDS", 0)
    stamps = [refs.folder_stamp(git, c.versions_prefix)]
    for step in (lambda: refs.update(git, c.version_ref(0), b, a, "move"),
                 lambda: subprocess.run(["git", "--git-dir", repo.gitdir, "pack-refs", "--all"], check=True),
                 lambda: refs.update(git, c.version_ref(0), None, b, "delete")):
        time.sleep(0.05)  # past the file system's clock tick (what RACY_SECONDS covers in real use)
        step()
        stamps.append(refs.folder_stamp(git, c.versions_prefix))
    assert None not in stamps and len(set(stamps)) == len(stamps), stamps
