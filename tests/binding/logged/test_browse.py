"""Browsing a logged version a folder at a time (artvcs.logged.browse): what a viewer of a huge
manifest reads, without loading the manifest whole."""
from __future__ import annotations

import os

import pytest

import artvcs
from artvcs.errors import CorruptObjectError, PathEscapeError
from artvcs.logged import browse
from artvcs.plumbing.manifest import SHARD_THRESHOLD


@pytest.fixture
def logged(project):
    data = project / "data"
    (data / "sub" / "deep").mkdir(parents=True)
    (data / "a.txt").write_text("alpha\n")
    (data / "sub" / "deep" / "c.txt").write_text("gamma\n")
    a = artvcs.Artifact("ds", type="dataset")
    a.add_dir(str(data))
    a.add(artvcs.Table(columns=["k"], data=[[1], [2]]), "tab")
    with artvcs.init(job_type="t") as run:
        run.log_artifact(a)
    return artvcs.Api().artifact("ds:v0")


@pytest.fixture
def big(project):
    """A version whose folder ``big`` holds more files than one listing takes (written through the
    plumbing: creating 4,000 real files would only slow the test)."""
    from artvcs.core.context import find_or_create
    from artvcs.plumbing import manifest, versions
    from artvcs.plumbing.manifest import Entry
    from artvcs.plumbing.refs import CollectionId

    repo = find_or_create(str(project))
    digest = repo.store.put_bytes(b"x\n")
    n = SHARD_THRESHOLD + 100
    entries = [Entry(f"big/f{i:05d}.txt", digest, 2) for i in range(n)] + [Entry("top.txt", digest, 2)]
    tree = manifest.write_manifest(repo.git, entries)
    versions.commit_version(repo.git, CollectionId("me", "proj", "big"), tree, versions.version_facts("dataset", *manifest.summarize(entries)))
    return artvcs.Api().artifact("big:v0"), n


def test_folders_and_listings(logged, big):
    root = browse.folder(logged)
    assert root.subfolders == ["sub"] and [e.path for e in root.files] == ["a.txt", "tab.table.json"]
    assert browse.folder(logged, "sub").subfolders == ["deep"] and browse.folder(logged, "sub").files == []
    a, n = big
    big = browse.folder(a, "big/")
    assert len(big.listings) > 1 and big.listing == big.listings[0]
    seen = []
    for listing in big.listings:
        part = browse.folder(a, "big", listing)
        assert [e.path for e in part.files] == sorted(e.path for e in part.files)
        seen += [e.path for e in part.files]
    assert sorted(seen) == [f"big/f{i:05d}.txt" for i in range(n)]
    assert browse.folder(a, "nowhere") is None and browse.folder(a, "top.txt") is None
    with pytest.raises(PathEscapeError):
        browse.folder(a, "../etc")
    assert a._entries is None  # nothing above loaded the whole manifest


def test_entry_bytes_and_media_without_the_whole_manifest(logged):
    a = logged
    e = browse.entry(a, "sub/deep/c.txt")
    assert e.size == 6 and browse.entry(a, "sub/missing.txt") is None
    with browse.open_stored(a, e) as f:
        assert f.read() == b"gamma\n"
    table = browse.media_object(a, "tab.table.json")
    assert table.data == [[1], [2]] and browse.media_object(a, "a.txt") is None
    assert a._entries is None
    path = a._context.repo.store.path_of(e.digest)
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        f.write(b"gamm4\n")
    with pytest.raises(CorruptObjectError):
        browse.open_stored(a, e)


def test_projects_and_version_numbers(logged):
    a = logged
    with artvcs.init(project="other", job_type="t") as run:
        x = artvcs.Artifact("x", type="dataset")
        with x.new_file("x.txt") as f:
            f.write("x")
        run.log_artifact(x)
    repo = a._context.repo
    assert browse.projects(repo) == [("me", "other"), ("me", "proj")]
    assert browse.version_numbers(repo, "me", "proj", "ds") == [0]
    rows = browse.version_rows(repo, browse.version_refs(repo, "me", "proj", "ds"))
    assert [(r.number, r.commit, r.size, r.file_count) for r in rows] == [(0, a.commit_hash, a.size, a.file_count)]
