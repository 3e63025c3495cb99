"""``artvcs fsck`` and ``plumbing.fsck``: each kind of damage is reported, a clean repository prints nothing."""
from __future__ import annotations

import os
import time

import pygit2
import pytest

from artvcs.plumbing import manifest, refs, versions
from artvcs.plumbing.facts import manifest_facts
from artvcs.plumbing.fsck import fsck


@pytest.fixture
def ds(repo_dir, cli):
    """ds:v0 holding a.txt and sub/b.txt; returns their digests and the commit."""
    (repo_dir / "sub").mkdir()
    (repo_dir / "a.txt").write_text("one\n")
    (repo_dir / "sub" / "b.txt").write_text("two\n")
    listing = cli("hash-object", "-w", "a.txt", "sub/b.txt").out
    tree = cli("mktree", input=listing).out.strip()
    commit = cli("commit-version", "--name", "ds", "--type", "dataset", tree).out.split("\t")[0]
    return [line.split("\t")[0] for line in listing.splitlines()], commit


def content(repo_dir, digest: str):
    return repo_dir / ".artifacts" / "content" / digest[:2] / digest[2:]


def test_clean_repository_prints_nothing(ds, cli):
    assert cli("fsck") == (0, "", "")
    assert cli("fsck", "--quick") == (0, "", "")


def test_corrupt_and_missing_content_are_reported(ds, repo_dir, cli, golden):
    (a, b), _ = ds
    path = content(repo_dir, a)
    os.chmod(path, 0o644)  # stored content is read-only: damage it on purpose
    path.write_text("evil\n")
    content(repo_dir, b).unlink()
    r = cli("fsck")
    assert r.code == 1 and r.err == ""
    golden("fsck-damage.out", r.out)
    assert sorted(line.split("\t")[:2] for line in r.out.splitlines()) == [["corrupt-content", a], ["missing-content", b]]
    r = cli("fsck", "--quick")
    # --quick hashes nothing, but a stored file whose size is not its entries' size is found by a stat
    assert r.code == 1 and [line.split("\t")[:2] for line in r.out.splitlines()] == [["missing-content", b], ["bad-size", a]]


def test_refs_versions_manifests_and_links_are_checked(ds, repo, cli):
    (a, _), c0 = ds
    git = repo.git
    blob = git.create_blob(b"x")
    git.references.create("refs/aliases/me/proj/ds/blob", blob)  # a ref at the wrong kind of object
    v0 = versions.read_version(git, c0)
    facts = versions.version_facts("dataset", *manifest_facts(git, v0.manifest))
    other = versions.commit_version(git, refs.CollectionId("me", "proj", "other"), v0.manifest, facts)
    git.references.create("refs/aliases/me/proj/ds/stray", other.commit)  # names another collection's version
    bad_tree = _tree_with_rows(git, [["..", a, 4]])
    bad = versions.commit_version(git, refs.CollectionId("me", "proj", "evil"), bad_tree, facts)
    link_facts = dict(facts, kind="link", source={"commit": "1" * 40})
    versions.commit_version(git, refs.CollectionId("me", "proj", "portfolio"), v0.manifest, link_facts)
    c1 = cli("commit-version", "--name", "ds", "--type", "dataset", str(v0.manifest)).out.split("\t")[0]
    assert cli("update-ref", "refs/collections/me/proj/ds", c0, c1).code == 0  # the tip lags behind v1
    found = {(p.kind, p.object) for p in fsck(repo)}
    assert found == {
        ("bad-ref", "refs/aliases/me/proj/ds/blob"),
        ("bad-version", "refs/aliases/me/proj/ds/stray"),
        ("bad-manifest", "refs/collections/me/proj/evil"),
        ("missing-source", "refs/versions/me/proj/portfolio/v0"),
        ("lagging-tip", "refs/collections/me/proj/ds"),
    }, found
    assert str(bad.manifest) in next(p.message for p in fsck(repo) if p.kind == "bad-manifest")


def test_lying_facts_are_named(ds, repo, cli):
    (a, _), c0 = ds
    git = repo.git
    v0 = versions.read_version(git, c0)
    digest, size, count = manifest_facts(git, v0.manifest)
    for name, lie in (("digest", "e" * 64), ("size", size + 1), ("file_count", count + 7)):
        facts = versions.version_facts("dataset", digest, size, count)
        facts[name] = lie
        versions.commit_version(git, refs.CollectionId("me", "proj", f"lie-{name}"), v0.manifest, facts)
    r = cli("fsck", "--quick")
    assert r.code == 1
    lines = [line.split("\t") for line in r.out.splitlines()]
    bad = {obj: msg for kind, obj, msg in lines if kind == "bad-facts"}
    assert set(bad) == {f"refs/{ns}/me/proj/lie-{n}{leaf}" for n in ("digest", "size", "file_count")
                        for ns, leaf in (("collections", ""), ("versions", "/v0"))}, bad
    assert f"says size {size + 1}" in bad["refs/versions/me/proj/lie-size/v0"]
    assert f"gives {count}" in bad["refs/versions/me/proj/lie-file_count/v0"]
    assert "e" * 64 in bad["refs/versions/me/proj/lie-digest/v0"]


def _tree_with_rows(git: pygit2.Repository, rows: list) -> pygit2.Oid:
    tb = git.TreeBuilder()
    tb.insert(manifest.LISTING, git.create_blob(manifest.canonical_json(rows)), pygit2.GIT_FILEMODE_BLOB)
    return tb.write()


def test_stale_temporary_and_lock_files_are_reported(ds, repo_dir, cli):
    old = time.time() - 7200
    tmp = repo_dir / ".artifacts" / "content" / "ab" / ".tmp-1-dead"
    lock = repo_dir / ".artifacts" / "refs" / "aliases" / "x.lock"
    fresh = repo_dir / ".artifacts" / "content" / "cd" / ".tmp-2-live"
    lock.parent.mkdir(parents=True)
    for p in (tmp, lock, fresh):
        p.write_bytes(b"")
    os.utime(tmp, (old, old))
    os.utime(lock, (old, old))
    r = cli("fsck")
    assert r.code == 1
    assert r.out == (
        f"stale-temp\t{tmp}\tleft by an interrupted writer; safe to delete\n"
        f"stale-lock\t{lock}\tleft by an interrupted writer; delete it to unblock the ref\n"
    )
