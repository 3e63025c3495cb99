"""Plumbing over content and manifests: hash-object, cat-object, mktree, ls-manifest, verify-object.

Inputs are fixed bytes, so digests, tree ids and listings are compared
exactly with the files in golden/.
"""
from __future__ import annotations

import os
import stat

import blake3
import pytest

FILES = {
    "a.txt": b"one\n",
    "bin.dat": bytes(range(256)),
    "odd dir/\u00fc name's.txt": b"three\n",
    "sub/b.txt": b"two\n",
}


@pytest.fixture
def data(repo_dir):
    for name, content in FILES.items():
        (repo_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (repo_dir / name).write_bytes(content)
    return repo_dir


def store_files(root) -> set[str]:
    return {p.name for p in (root / ".artifacts" / "content").rglob("*") if p.is_file()}


def test_hash_object_prints_digest_size_path(data, cli, golden):
    before = store_files(data)
    r = cli("hash-object", *FILES)
    assert r == (0, r.out, "")
    golden("hash-object.out", r.out)
    assert r.out == "".join(f"{blake3.blake3(c).hexdigest()}\t{len(c)}\t{n}\n" for n, c in FILES.items())
    assert store_files(data) == before, "without -w nothing is stored"
    golden("hash-object-z.out", cli("hash-object", "-z", *FILES).out_bytes)
    one = blake3.blake3(b"one\n").hexdigest()
    assert cli("hash-object", "--stdin", input=b"one\n").out == f"{one}\t4\t-\n"


def test_hash_object_w_stores_read_only_content(data, cli):
    r = cli("hash-object", "-w", "a.txt", "bin.dat")
    assert r.code == 0
    for line in r.out.splitlines():
        digest = line.split("\t")[0]
        path = data / ".artifacts" / "content" / digest[:2] / digest[2:]
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    r = cli("hash-object", "-w", "--policy", "immutable", "sub/b.txt")
    digest = r.out.split("\t")[0]
    assert (data / ".artifacts" / "content" / digest[:2] / digest[2:]).read_bytes() == b"two\n"
    r = cli("hash-object", "-w", "--stdin", input=b"from stdin")
    assert cli("cat-object", r.out.split("\t")[0]).out == "from stdin"


def test_hash_object_without_w_needs_no_repository(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARTVCS_DIR", raising=False)
    (tmp_path / "f").write_bytes(b"x")
    assert cli("hash-object", "f") == (0, f"{blake3.blake3(b'x').hexdigest()}\t1\tf\n", "")


def test_cat_object_is_binary_safe(data, cli):
    digest = cli("hash-object", "-w", "bin.dat").out.split("\t")[0]
    r = cli("cat-object", digest)
    assert r.code == 0 and r.out_bytes == FILES["bin.dat"] and r.err == ""


def test_mktree_reads_what_hash_object_and_ls_manifest_print(data, cli, golden):
    listing = cli("hash-object", "-w", *FILES).out
    r = cli("mktree", input=listing)
    assert r == (0, r.out, "")
    golden("mktree.out", r.out)
    tree = r.out.strip()
    long_form = cli("ls-manifest", "--long", tree).out
    assert cli("mktree", input=long_form).out == r.out, "the long form writes the same tree"
    assert cli("mktree", "--long", input=long_form).out == r.out
    mixed = listing.splitlines(True)[0] + "".join(long_form.splitlines(True)[1:])
    assert cli("mktree", input=mixed).out == r.out, "both forms may be mixed"
    assert cli("mktree", "-z", input=cli("hash-object", "-z", *FILES).out_bytes).out == r.out
    unknown = "".join(f"{d}\t-\t{p}" for d, _, p in (line.split("\t") for line in listing.splitlines(True)))
    assert cli("mktree", input=unknown).out == r.out, "an unknown size of stored content is taken from the store"
    first = listing.splitlines()[0].replace("\ta.txt", "\t./a.txt")
    assert cli("mktree", input=f"\n{first}\n\n").out == cli("mktree", input=listing.splitlines()[0]).out, \
        "blank records are skipped and paths normalised"


def test_mktree_and_ls_manifest_keep_references(data, cli, golden):
    listing = (
        "etag-0123\t-\ts3://bucket/data/x.csv\t{\"versionId\":\"7\"}\tremote/x.csv\n"
        f"{blake3.blake3(b'one').hexdigest()}\t-\thttps://example.com/one\t{{}}\tremote/one\n"
    )
    r = cli("mktree", input=listing)
    assert r.code == 0, r.err
    golden("mktree-ref.out", r.out)
    golden("ls-manifest-ref.out", cli("ls-manifest", "--long", r.out.strip()).out)


def test_ls_manifest_lists_tree_commit_or_version_name(data, cli, golden):
    tree = cli("mktree", input=cli("hash-object", "-w", *FILES).out).out.strip()
    out = cli("ls-manifest", tree).out
    golden("ls-manifest.out", out)
    golden("ls-manifest-long.out", cli("ls-manifest", "--long", tree).out)
    golden("ls-manifest-z.out", cli("ls-manifest", "-z", tree).out_bytes)
    assert [line.split("\t")[2] for line in out.splitlines()] == sorted(FILES, key=str.encode)
    commit = cli("commit-version", "--name", "ds", "--type", "dataset", tree).out.split("\t")[0]
    for obj in (commit, commit[:12], "ds", "ds:v0", "me/proj/ds:latest", tree[:10]):
        assert cli("ls-manifest", obj).out == out, obj
    assert cli("ls-manifest", "--entity", "me", "--project", "proj", "ds").out == out
    assert cli("ls-manifest", tree, "sub/").out == [l + "\n" for l in out.splitlines() if "\tsub/" in l][0]
    assert cli("ls-manifest", tree, "nothing/").out == ""


def test_verify_object_reports_each_digest(data, cli, golden):
    digests = [line.split("\t")[0] for line in cli("hash-object", "-w", "a.txt", "sub/b.txt", "bin.dat").out.splitlines()]
    r = cli("verify-object", *digests)
    assert r.code == 0 and r.out == "".join(f"ok\t{d}\n" for d in digests)
    content = data / ".artifacts" / "content"
    damaged = content / digests[0][:2] / digests[0][2:]
    os.chmod(damaged, 0o644)
    damaged.write_bytes(b"evil\n")
    (content / digests[1][:2] / digests[1][2:]).unlink()
    r = cli("verify-object", *digests)
    assert r.code == 1 and r.err == ""
    golden("verify-object.out", r.out)
