"""Damaged local metadata gives one error line naming the file and the rule, exit 1, and changes nothing.

A format record that is not ASCII, an artifact.json missing a field or with
a field of the wrong type, a listing blob that is not JSON, a ref file git
cannot read, a config.yaml that is not UTF-8 or holds the wrong shape: each
is met by the commands that read it with ``artvcs: error: ...`` on one line,
never a traceback.
"""
from __future__ import annotations

import os

import pygit2
import pytest

from artvcs.plumbing import manifest, versions
from artvcs.plumbing.refs import CollectionId

COLL = CollectionId("me", "proj", "ds")


@pytest.fixture
def ds(repo_dir, cli):
    """ds:v0 holding a.txt; returns the open git repository."""
    (repo_dir / "a.txt").write_text("one\n")
    listing = cli("hash-object", "-w", "a.txt").out
    tree = cli("mktree", input=listing).out.strip()
    assert cli("commit-version", "--name", "ds", "--type", "dataset", tree).code == 0
    return pygit2.Repository(str(repo_dir / ".artifacts"))


def refs_files(repo_dir) -> dict[str, bytes]:
    out = {}
    for folder, _, files in os.walk(repo_dir / ".artifacts" / "refs"):
        for f in files:
            out[os.path.join(folder, f)] = open(os.path.join(folder, f), "rb").read()
    return out


def one_line_error(r, *words: str) -> None:
    assert r.code == 1 and r.out == "", r
    assert r.err.startswith("artvcs: error: ") and r.err.count("\n") == 1, r.err
    assert "Traceback" not in r.err
    for w in words:
        assert w in r.err, (w, r.err)


@pytest.mark.parametrize("record", [b"artvcs-format \xff\n", "artvcs-format \u00b2\n".encode(), b"\xfe\xff", b"artvcs-format 1 2\n"])
def test_a_damaged_format_record(ds, repo_dir, cli, record):
    (repo_dir / ".artifacts" / "artvcs-format").write_bytes(record)
    for args in (("ls",), ("show-ref",)):
        one_line_error(cli(*args), "artvcs-format", "ASCII line 'artvcs-format <N>'")


def _version_with_facts(git, facts: dict, number: int) -> None:
    tree = git[git.references.get(COLL.version_ref(0)).target].tree
    tb = git.TreeBuilder()
    tb.insert(versions.FACTS, git.create_blob(manifest.canonical_json(facts)), pygit2.GIT_FILEMODE_BLOB)
    tb.insert(versions.MANIFEST, tree[versions.MANIFEST].id, pygit2.GIT_FILEMODE_TREE)
    sig = pygit2.Signature("me", "me@artvcs")
    git.references.create(COLL.version_ref(number), git.create_commit(None, sig, sig, "x", tb.write(), []))


@pytest.mark.parametrize("change,words", [
    (lambda f: f.pop("digest"), ["has no 'digest' field"]),
    (lambda f: f.update(size="4"), ["field 'size'", "not int"]),
    (lambda f: f.update(created_at="yesterday"), ["field 'created_at'", "not a time"]),
    (lambda f: f.update(name="../x"), ["name '../x'", "name rules"]),
    (lambda f: f.update(format=9), ["format 9", "upgrade artvcs"]),
])
def test_artifact_json_missing_a_field_or_mistyped(ds, repo_dir, cli, change, words):
    v0 = versions.read_version(ds, ds.references.get(COLL.version_ref(0)).target)
    facts = dict(v0.facts, version=1)
    change(facts)
    _version_with_facts(ds, facts, 1)
    before = refs_files(repo_dir)
    for args in (("show", "ds:v1"), ("ls-manifest", "ds:v1")):
        one_line_error(cli(*args), "artifact.json", *words)
    assert refs_files(repo_dir) == before


@pytest.mark.parametrize("data,words", [(b"not json", ["not valid JSON"]), (b'{"a": 1}', ["not a JSON array of rows"]),
                                        (b"[" * 5000 + b"]" * 5000, ["too deeply"]), (b"\xff[]", ["not UTF-8"]),
                                        (b'[["a","d",1,{"ref":7}]]', ["malformed manifest row", "'ref' must be a string"])])
def test_a_damaged_listing_blob(ds, repo_dir, cli, data, words):
    tb = ds.TreeBuilder()
    tb.insert(manifest.LISTING, ds.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    tree = str(tb.write())
    for args in (("ls-manifest", tree),):
        one_line_error(cli(*args), *words)
    r = cli("commit-version", "--name", "bad", "--type", "dataset", tree)
    assert r.code == 1 and r.err.count("\n") == 1


def test_a_damaged_ref_file(ds, repo_dir, cli):
    path = repo_dir / ".artifacts" / "refs" / "aliases" / "me" / "proj" / "ds" / "prod"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an object id\xff\n")
    one_line_error(cli("rev-parse", "ds:prod"), "refs/aliases/me/proj/ds/prod", "cannot be read")
    (repo_dir / ".artifacts" / "packed-refs").write_bytes(b"\xff junk\n")
    path.unlink()
    one_line_error(cli("show-ref"), "refs", "cannot be listed")


@pytest.mark.parametrize("data,words", [(b"entity: \xff\n", ["config.yaml", "not UTF-8"]),
                                        (b"projects: [1, 2]\n", ["config.yaml", "'projects' must be a mapping"]),
                                        (b"- a\n- b\n", ["config.yaml", "must hold a YAML mapping"]),
                                        (b"a: !!python/object:os.system x\n", ["config.yaml", "not valid YAML"]),
                                        (b"ttl: -1\n", ["ttl", "positive number"])])
def test_a_damaged_config(ds, repo_dir, cli, monkeypatch, data, words):
    monkeypatch.delenv("ARTVCS_ENTITY", raising=False)
    (repo_dir / ".artifacts" / "config.yaml").write_bytes(data)
    before = refs_files(repo_dir)
    (repo_dir / "b.txt").write_text("two\n")
    one_line_error(cli("log", "b.txt", "--name", "other", "--type", "dataset"), *words)
    assert refs_files(repo_dir) == before
