"""fsck reports every rule of artvcs-format(5) a crafted repository breaks, and changes nothing.

Each case writes objects no artvcs would write (as a hostile pack or a hand
edit could), commits them as a version, and checks the problem kind, the
words of the rule in its message, the exit status of ``artvcs fsck``, and
that refs and content are as they were.
"""
from __future__ import annotations

import os

import pygit2
import pytest

from artvcs.plumbing import manifest, refs, versions
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.manifest import LISTING, canonical_json
from artvcs.plumbing.refs import CollectionId

COLL = CollectionId("me", "proj", "ds")


def blob(git, data: bytes) -> pygit2.Oid:
    return git.create_blob(data)


def raw_tree(git, items: list[tuple[str, pygit2.Oid, int]]) -> pygit2.Oid:
    """A tree written byte by byte (libgit2's builder refuses some names), entries sorted as git sorts."""
    def key(item):
        return item[0].encode() + (b"/" if item[2] == pygit2.GIT_FILEMODE_TREE else b"")

    data = b"".join(f"{mode:o} {name}".encode() + b"\0" + oid.raw for name, oid, mode in sorted(items, key=key))
    return git.odb.write(pygit2.GIT_OBJECT_TREE, data)


def listing(git, rows: list) -> pygit2.Oid:
    return blob(git, canonical_json(rows))


def commit(repo, tree: pygit2.Oid) -> versions.Version:
    return versions.commit_version(repo.git, COLL, tree, versions.version_facts("dataset", "0" * 64, 0, 0))


def state(repo) -> tuple:
    files = sorted((root, tuple(sorted(names))) for root, _, names in os.walk(repo.store.root))
    return dict(refs.iter_refs(repo.git)), files


@pytest.fixture
def stored(repo):
    """Digest of 4 stored bytes."""
    return repo.store.put_bytes(b"one\n")


def check(repo, cli, kind: str, words: list[str]) -> None:
    before = state(repo)
    found = [p for p in fsck(repo) if p.kind == kind]
    assert found, [(p.kind, p.message) for p in fsck(repo)]
    assert any(all(w in p.message for w in words) for p in found), [p.message for p in found]
    r = cli("fsck")
    assert r.code == 1 and kind in r.out
    assert state(repo) == before


B, T = pygit2.GIT_FILEMODE_BLOB, pygit2.GIT_FILEMODE_TREE


def test_a_stray_tree_entry(repo, cli, stored):
    git = repo.git
    commit(repo, raw_tree(git, [(LISTING, listing(git, [["a", stored, 4]]), B), ("notes.txt", blob(git, b"x"), B)]))
    check(repo, cli, "bad-manifest", ["'notes.txt'", "neither a listing blob nor a subfolder"])


def test_both_listing_forms_and_a_wrong_bucket(repo, cli, stored):
    git = repo.git
    shard = manifest._shard("a")
    wrong = "00" if shard != "00" else "01"
    commit(repo, raw_tree(git, [(LISTING, listing(git, [["a", stored, 4]]), B),
                                (f"{LISTING}.{wrong}", listing(git, [["a", stored, 4]]), B)]))
    check(repo, cli, "bad-manifest", ["one form or the other"])
    check(repo, cli, "bad-manifest", ["duplicate entry path 'a'"])
    check(repo, cli, "bad-manifest", [f"whose bucket is {LISTING}.{shard}"])


def test_a_listing_that_is_not_canonical_json(repo, cli, stored):
    git = repo.git
    commit(repo, raw_tree(git, [(LISTING, blob(git, f'[["a", "{stored}", 4]]\n'.encode()), B)]))
    check(repo, cli, "bad-manifest", ["not canonical JSON"])


def test_a_path_both_file_and_folder_and_an_empty_folder(repo, cli, stored):
    git = repo.git
    sub = raw_tree(git, [(LISTING, listing(git, [["b", stored, 4]]), B)])
    empty = raw_tree(git, [])
    commit(repo, raw_tree(git, [(LISTING, listing(git, [["a", stored, 4]]), B), ("a", sub, T), ("e", empty, T)]))
    check(repo, cli, "bad-manifest", ["'a' is both a file and a folder"])
    check(repo, cli, "bad-manifest", ["folder 'e' is empty"])


def test_a_slash_in_a_folder_name_beside_the_folder(repo, cli, stored):
    git = repo.git
    inner = raw_tree(git, [(LISTING, listing(git, [["b", stored, 4]]), B)])
    commit(repo, raw_tree(git, [("a", raw_tree(git, [("b", inner, T)]), T), ("a%2Fb", inner, T)]))
    check(repo, cli, "bad-manifest", ["'a%2Fb'", "not a canonically escaped name"])


def test_a_dotgit_component(repo, cli, stored):
    git = repo.git
    commit(repo, raw_tree(git, [("%2EGIT", raw_tree(git, [(LISTING, listing(git, [["config", stored, 4]]), B)]), T)]))
    check(repo, cli, "bad-manifest", ["'.GIT/config'", "git's own folder"])


def test_a_recorded_size_that_is_not_the_content_size(repo, cli, stored):
    git = repo.git
    commit(repo, raw_tree(git, [(LISTING, listing(git, [["a", stored, 99]]), B)]))
    check(repo, cli, "bad-size", ["recorded as 99 bytes", "stored content has 4"])
    r = cli("fsck", "--quick")
    assert r.code == 1 and "bad-size" in r.out


def test_a_reference_digest_on_two_lines(repo, cli):
    git = repo.git
    commit(repo, raw_tree(git, [(LISTING, listing(git, [["a", "x\ny", None, {"ref": "s3://b/k"}]]), B)]))
    check(repo, cli, "bad-manifest", ["invalid digest", "single-line"])


@pytest.mark.parametrize("alias", ["v3", "latest"])
def test_aliases_named_like_versions_or_latest(repo, cli, stored, alias):
    git = repo.git
    v = commit(repo, raw_tree(git, [(LISTING, listing(git, [["a", stored, 4]]), B)]))
    git.references.create(COLL.alias_ref(alias), v.commit)
    check(repo, cli, "bad-alias", [repr(alias), "reserved"])


def test_facts_of_the_wrong_type(repo, cli, stored):
    git = repo.git
    v = commit(repo, raw_tree(git, [(LISTING, listing(git, [["a", stored, 4]]), B)]))
    facts = dict(v.facts, size="4")
    tb = git.TreeBuilder()
    tb.insert(versions.FACTS, git.create_blob(canonical_json(facts)), B)
    tb.insert(versions.MANIFEST, v.manifest, T)
    sig = pygit2.Signature("me", "me@artvcs")
    bad = git.create_commit(None, sig, sig, "x", tb.write(), [])
    git.references.create(COLL.version_ref(1), bad)
    check(repo, cli, "bad-version", ["field 'size'", "'4'", "not int"])


def test_a_clean_repository_of_every_shape_passes(repo, cli, stored):
    """What artvcs writes itself breaks no rule: sharded folders, references, deep folders, extras."""
    entries = [manifest.Entry(f"big/f{i:05d}", stored, 4) for i in range(manifest.SHARD_THRESHOLD + 1)]
    entries += [manifest.Entry("r/x", "etag-1", None, "s3://b/x", {"versionID": "7"}), manifest.Entry("a/b/c/.hidden", stored, 4)]
    tree = manifest.write_manifest(repo.git, entries)
    d, size, n = manifest.summarize(entries)
    versions.commit_version(repo.git, COLL, tree, versions.version_facts("dataset", d, size, n))
    assert fsck(repo) == []
