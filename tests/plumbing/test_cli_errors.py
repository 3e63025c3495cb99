"""Refused input: one stderr line that names the value and the rule, exit 1 (2 for usage), and nothing changed.

"Nothing changed" is checked the strong way: the ref listing and the set of
files under .artifacts/ (git objects and content store) are identical
before and after every refused command.
"""
from __future__ import annotations

import blake3
import pytest

ZERO = "0" * 40
ONE = blake3.blake3(b"one\n").hexdigest()


@pytest.fixture
def made(repo_dir, cli):
    """A repository holding ds:v0 (dataset) with a.txt, and cnn:v0 (model); returns the commit of ds:v0."""
    (repo_dir / "a.txt").write_text("one\n")
    tree = cli("mktree", input=cli("hash-object", "-w", "a.txt").out).out.strip()
    cli("commit-version", "--name", "cnn", "--type", "model", tree)
    return {"tree": tree, "commit": cli("commit-version", "--name", "ds", "--type", "dataset", tree).out.split("\t")[0]}


def snapshot(root, cli) -> tuple:
    files = {str(p.relative_to(root)) for p in (root / ".artifacts").rglob("*") if p.is_file() and "logs" not in p.parts}
    return cli("show-ref").out, files


MKTREE = [  # (stdin, words the error must hold: the value as repr'd, and the rule)
    (f"{ONE}\t4\t/abs.txt\n", ["'/abs.txt'", "absolute"]),
    (f"{ONE}\t4\tx/../../evil\n", ["'x/../../evil'", "'..'"]),
    (f"{ONE}\t4\t..\n", ["'..'", "'..' components"]),
    (f"{ONE}\t4\tC:x\n", ["'C:x'", "drive letter"]),
    (f"{ONE}\t4\tc:/x\n", ["'c:/x'", "drive letter"]),
    (f"{ONE}\t4\ta\\b\n", ["'a\\\\b'", "backslash"]),
    (f"{ONE}\t4\t\\\\server\\share\n", ["server", "backslash"]),
    (f"{ONE}\t4\ta\x00b\n", ["'a\\x00b'", "NUL"]),
    (f"{ONE}\t4\ta\x01b\n", ["'a\\x01b'", "control character"]),
    (f"{ONE}\t4\t./\n", ["'./'", "empty"]),
    (f"{ONE}\t4\tok\n{ONE}\tbig\tbad\n", ["record 2", "'big'", "non-negative integer"]),
    (f"{ONE}\t-4\tbad\n", ["record 1", "'-4'"]),
    (f"{ONE}\tonly-two\n", ["record 1", "has 2 fields", "3 tab-separated fields"]),
    (f"{ONE}\t4\tx\ty\n", ["record 1", "has 4 fields", "a path may not hold a tab"]),
    (f"{ONE}\t4\t-\tnot json\tp\n", ["record 1", "'not json'", "not JSON"]),
    (f"{ONE}\t4\t-\t[1]\tp\n", ["record 1", "JSON object"]),
    (f"{ONE}\t4\t-\t{{\"x\": NaN}}\tp\n", ["record 1", "NaN", "not JSON"]),
    (f"{ONE}\t4\ta\n{ONE}\t4\tb\n{ONE}\t4\t./a\n", ["record 3", "duplicate", "'a'"]),
    (f"{ONE}\t4\ta\n{ONE}\t4\ta/b\n", ["'a'", "both a file and a folder"]),
    (f"{'f' * 64}\t4\ta\n", ["record 1", "f" * 64, "not in the store", "hash-object -w"]),
    (f"{ONE.upper()}\t4\ta\n", ["record 1", ONE.upper(), "blake3"]),
    (f"{ONE}\t5\ta\n", ["record 1", "size 5", "4 bytes"]),
    (b"\xff\t4\ta\n", ["record 1", "not UTF-8"]),
]


@pytest.mark.parametrize("stdin,words", MKTREE, ids=[repr(c[0])[:40] for c in MKTREE])
def test_mktree_refuses_and_writes_nothing(made, repo_dir, cli, stdin, words):
    before = snapshot(repo_dir, cli)
    r = cli("mktree", input=stdin)
    assert r.code == 1 and r.out == "", r
    assert r.err.startswith("artvcs: error: ") and r.err.count("\n") == 1, r.err
    for w in words:
        assert w in r.err, (w, r.err)
    assert snapshot(repo_dir, cli) == before


def test_mktree_z_refuses_an_empty_path(made, repo_dir, cli):
    before = snapshot(repo_dir, cli)
    r = cli("mktree", "-z", input=f"{ONE}\t4\tok\x00{ONE}\t4\t\x00")
    assert r.code == 1 and "record 2" in r.err and "empty" in r.err
    assert snapshot(repo_dir, cli) == before


def other_cases(made) -> list:
    c, tree = made["commit"], made["tree"]
    best = "refs/aliases/me/proj/ds/best"
    return [  # (args, exit code, words)
        (("update-ref", "refs/collections/me/proj/ds", c, "1" * 40), 1, ["refs/collections/me/proj/ds", "1" * 40, c, "changed concurrently"]),
        (("update-ref", "-d", best, c), 1, [best, "absent", "changed concurrently"]),
        (("update-ref", "-d", "refs/versions/me/proj/ds/v0", "1" * 40), 1, ["refs/versions/me/proj/ds/v0", "1" * 40]),
        (("update-ref", "--create", "refs/versions/me/proj/ds/v0", c), 1, ["refs/versions/me/proj/ds/v0", "expected absent"]),
        (("update-ref", "refs/heads/main", c, ZERO), 1, ["'refs/heads/main'", "not an artvcs ref"]),
        (("update-ref", "refs/aliases/me/proj/ds/v3", c, ZERO), 1, ["'v3'", "reserved"]),
        (("update-ref", "refs/aliases/me/proj/ds/latest", c, ZERO), 1, ["'latest'", "managed"]),
        (("update-ref", "refs/aliases/me/proj/ds/a.b", c, ZERO), 1, ["'refs/aliases/me/proj/ds/a.b'", "refs/aliases/me/proj/ds/a%2Eb"]),
        (("update-ref", "refs/aliases/me/proj/ds/%zz", c, ZERO), 1, ["%zz", "bad %-escape"]),
        (("update-ref", "refs/aliases/me/proj/ds", c, ZERO), 1, ["'refs/aliases/me/proj/ds'", "4 components"]),
        (("update-ref", "refs/collections/me/proj/%20x", c, ZERO), 1, ["' x'", "letters, digits"]),
        (("update-ref", "refs/versions/me/proj/ds/v01", c, ZERO), 1, ["v01", "v<number>"]),
        (("update-ref", "refs/aliases/me/proj/cnn/best", c, ZERO), 1, ["refs/aliases/me/proj/cnn/best", "version of me/proj/ds"]),
        (("update-ref", "refs/versions/me/proj/ds/v1", c, ZERO), 1, ["refs/versions/me/proj/ds/v1", "is v0"]),
        (("update-ref", best, tree, ZERO), 1, [tree, "a tree, not a commit"]),
        (("update-ref", best, "2" * 40, ZERO), 1, ["2" * 40, "nothing, not a commit"]),
        (("update-ref", best, "ds:nope", ZERO), 1, ["'ds:nope'", "'nope'"]),
        (("update-ref", best, c), 2, ["OLD", "--create"]),
        (("update-ref", "-d", best), 2, ["-d takes REFNAME OLD"]),
        (("rev-parse", "ds:nope"), 1, ["'ds:nope'", "no alias, version or digest 'nope'"]),
        (("rev-parse", "nothing"), 1, ["me/proj/nothing", "does not exist"]),
        (("rev-parse", "a/b/c/d"), 1, ["'a/b/c/d'", "at most entity/project/name"]),
        (("rev-parse", "abcdef12"), 1, ["abcdef12", "no version"]),
        (("ls-manifest", "nothing:v0"), 1, ["'nothing:v0'", "neither a manifest tree"]),
        (("cat-object", "e" * 64), 1, ["e" * 64, "not in the store"]),
        (("cat-object", "xyz"), 1, ["'xyz'", "64 lowercase hex"]),
        (("verify-object", ONE, "xyz"), 1, ["'xyz'", "64 lowercase hex"]),
        (("hash-object", "-w", "nope.txt"), 1, ["'nope.txt'", "no such file"]),
        (("hash-object",), 2, ["FILE", "--stdin"]),
        (("commit-version", "--name", "bad name", "--type", "dataset", tree), 1, ["'bad name'", "letters, digits"]),
        (("commit-version", "--name", "ds", "--type", "model", tree), 1, ["me/proj/ds", "'dataset'", "'model'"]),
        (("commit-version", "--name", "x", "--type", "wandb-history", tree), 1, ["'wandb-history'", "reserved"]),
        (("commit-version", "--name", "x", "--type", "t", "--metadata-json", "{nope", tree), 1, ["'{nope'", "not JSON"]),
        (("commit-version", "--name", "x", "--type", "t", "--metadata-json", "[1]", tree), 1, ["'[1]'", "JSON object"]),
        (("commit-version", "--name", "x", "--type", "t", "--metadata-json", str({f"k{i}": i for i in range(101)}).replace("'", '"'), tree), 1, ["101 keys", "at most 100"]),
        (("commit-version", "--name", "x", "--type", "t", "--run-id", "a/b", tree), 1, ["'a/b'", "run id"]),
        (("commit-version", "--name", "x", "--type", "t", "3" * 40), 1, ["'" + "3" * 40 + "'", "neither a manifest tree"]),
        (("commit-version", "--type", "t", tree), 2, ["--name"]),
        (("link-ref", "ds:v0", "model-registry/Reg"), 1, ["'dataset'", "contain 'model'"]),
        (("link-ref", "ds:v0", "a/b/c/d"), 1, ["'a/b/c/d'", "at most entity/project/portfolio"]),
        (("link-ref", "ds:v0", "bad name"), 1, ["'bad name'", "letters, digits"]),
        (("fsck", "--nope"), 2, ["--nope"]),
    ]


def test_other_commands_refuse_and_change_nothing(made, repo_dir, cli):
    before = snapshot(repo_dir, cli)
    for args, code, words in other_cases(made):
        r = cli(*args)
        assert r.code == code and r.out == "", (args, r)
        if code == 1:
            assert r.err.startswith("artvcs: error: ") and r.err.count("\n") == 1, (args, r.err)
        for w in words:
            assert w in r.err, (args, w, r.err)
        assert snapshot(repo_dir, cli) == before, args


def test_outside_a_repository_the_error_says_what_to_do(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARTVCS_DIR", raising=False)
    r = cli("show-ref")
    assert r.code == 1 and "no .artifacts repository" in r.err and "artvcs init" in r.err
