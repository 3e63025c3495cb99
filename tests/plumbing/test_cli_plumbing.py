"""Plumbing commands: exact output, errors that change nothing, and a script that builds a version."""
from __future__ import annotations

import os
import re
import subprocess
import textwrap

import pytest

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
ZERO = "0" * 40


def golden(name: str) -> str:
    with open(os.path.join(GOLDEN, name), encoding="utf-8") as f:
        return f.read()


def objects(root) -> set[str]:
    base = root / ".artifacts" / "objects"
    return {str(p) for p in base.rglob("*") if p.is_file()}


@pytest.fixture
def data(repo_dir):
    (repo_dir / "d" / "sub").mkdir(parents=True)
    (repo_dir / "d" / "a.txt").write_text("one\n")
    (repo_dir / "d" / "sub" / "b.txt").write_text("two\n")
    return repo_dir


def test_hash_object_mktree_ls_manifest_golden(data, run_cli):
    r = run_cli("hash-object", "-w", "d/a.txt", "d/sub/b.txt")
    assert r.code == 0 and r.err == ""
    assert r.out == golden("hash-object.out")
    listing = r.out.replace("\td/", "\t")
    r = run_cli("mktree", input=listing)
    assert r.code == 0 and r.out == golden("mktree.out")
    tree = r.out.strip()
    assert run_cli("ls-manifest", tree).out == golden("ls-manifest.out")
    assert run_cli("ls-manifest", "--long", tree).out == golden("ls-manifest-long.out")
    assert run_cli("ls-manifest", "-z", tree, "sub").out == golden("ls-manifest.out").splitlines(True)[1].replace("\n", "\0")
    assert run_cli("cat-object", listing.split("\t")[0]).out == "one\n"
    r = run_cli("hash-object", "--stdin", input=b"one\n")
    assert r.out == listing.splitlines()[0].rsplit("\t", 1)[0] + "\t-\n"


def test_commit_rev_parse_update_show_link(data, run_cli):
    listing = run_cli("hash-object", "-w", "d/a.txt").out.replace("\td/", "\t")
    tree = run_cli("mktree", input=listing).out.strip()
    r = run_cli("commit-version", "--name", "ds", "--type", "dataset", "--metadata-json", '{"k": 1}', tree)
    assert r.code == 0 and re.fullmatch(r"[0-9a-f]{40}\tv0\n", r.out)
    commit = r.out.split("\t")[0]
    r = run_cli("rev-parse", "ds:v0")
    assert re.fullmatch(rf"{commit}\tme/proj/ds\tv0\t[0-9a-f]{{64}}\n", r.out)
    digest = r.out.split("\t")[3].strip()
    assert run_cli("rev-parse", "ds").out == r.out
    assert run_cli("rev-parse", digest[:10]).out == r.out
    assert run_cli("update-ref", "refs/aliases/me/proj/ds/best", commit, ZERO).code == 0
    assert run_cli("rev-parse", "ds:best").out == r.out
    assert run_cli("show-ref").out == (
        f"{commit}\trefs/aliases/me/proj/ds/best\n{commit}\trefs/collections/me/proj/ds\n{commit}\trefs/versions/me/proj/ds/v0\n"
    )
    r = run_cli("link-ref", "ds:v0", "model-registry/Reg")
    assert r.code == 1 and "model" in r.err
    r = run_cli("link-ref", "ds:v0", "curated")
    assert r.code == 0 and r.out.endswith("\tv0\n")
    assert run_cli("ls-manifest", "curated:v0").out == f"{listing.split(chr(9))[0]}\t4\ta.txt\n"
    assert run_cli("update-ref", "-d", "refs/aliases/me/proj/ds/best", commit).code == 0
    assert "best" not in run_cli("show-ref").out


def test_errors_name_the_value_and_change_nothing(data, run_cli):
    listing = run_cli("hash-object", "-w", "d/a.txt").out.replace("\td/", "\t")
    tree = run_cli("mktree", input=listing).out.strip()
    commit = run_cli("commit-version", "--name", "ds", "--type", "dataset", tree).out.split("\t")[0]
    refs_before, objs_before = run_cli("show-ref").out, objects(data)
    digest = listing.split("\t")[0]
    cases = [
        (("mktree",), f"{digest}\t4\t/abs.txt\n", "absolute"),
        (("mktree",), f"{digest}\t4\tx/../../evil\n", "'..'"),
        (("mktree",), f"{digest}\t4\tC:evil\n", "drive"),
        (("mktree",), f"{digest}\t4\ta\\b\n", "backslash"),
        (("mktree",), f"{digest}\t4\tok.txt\n{digest}\tbig\tbad.txt\n", "record 2"),
        (("mktree",), f"{digest}\tonly-two-fields\n", "3 tab-separated fields"),
        (("mktree",), f"{digest}\t4\ta\n{digest}\t4\ta\n", "duplicate"),
        (("mktree",), f"{'f' * 64}\t4\ta\n", "not in the store"),
        (("mktree", "-z"), f"{digest}\t4\tnul\x00{digest}\t4\t\x00", None),
        (("update-ref", "refs/aliases/me/proj/ds/best", commit, "1" * 40), None, "changed concurrently"),
        (("update-ref", "refs/aliases/me/proj/ds/v3", commit, ZERO), None, "reserved"),
        (("update-ref", "refs/heads/main", commit, ZERO), None, "not an artvcs ref"),
        (("rev-parse", "ds:nope"), None, "'nope'"),
        (("rev-parse", "nothing"), None, "does not exist"),
        (("commit-version", "--name", "bad name", "--type", "dataset", tree), None, "'bad name'"),
        (("commit-version", "--name", "ds", "--type", "model", tree), None, "type 'dataset'"),
        (("commit-version", "--name", "x", "--type", "job", tree), None, "reserved"),
        (("cat-object", "e" * 64), None, "not in the store"),
    ]
    for args, stdin, words in cases:
        r = run_cli(*args, input=stdin)
        if words is None:  # -z with an empty path record: still refused
            assert r.code == 1, r
            continue
        assert r.code == 1 and words in r.err, (args, r)
        assert r.out == "" and r.err.count("\n") == 1 and r.err.startswith("artvcs: error: ")
    assert run_cli("show-ref").out == refs_before
    assert objects(data) == objs_before, "a refused command writes no object"


def test_verify_object_and_fsck_find_damage(data, run_cli):
    out = run_cli("hash-object", "-w", "d/a.txt", "d/sub/b.txt").out.replace("\td/", "\t")
    tree = run_cli("mktree", input=out).out.strip()
    run_cli("commit-version", "--name", "ds", "--type", "dataset", tree)
    assert run_cli("fsck").code == 0 and run_cli("fsck").out == ""
    (da, _, _), (db, _, _) = (line.split("\t") for line in out.splitlines())
    store = data / ".artifacts" / "content"
    a_file = store / da[:2] / da[2:]
    os.chmod(a_file, 0o644)
    a_file.write_text("evil\n")
    (store / db[:2] / db[2:]).unlink()
    r = run_cli("verify-object", da, db)
    assert r.code == 1 and r.out == f"corrupt\t{da}\nmissing\t{db}\n"
    r = run_cli("fsck")
    assert r.code == 1
    kinds = sorted(line.split("\t")[0:2] for line in r.out.splitlines())
    assert kinds == sorted([["corrupt-content", da], ["missing-content", db]])


def test_a_shell_script_builds_a_version_from_plumbing_alone(data, tmp_path):
    script = textwrap.dedent(
        """
        set -euo pipefail
        listing=$(artvcs hash-object -w d/a.txt d/sub/b.txt | sed 's#\\td/#\\t#')
        tree=$(printf '%s\\n' "$listing" | artvcs mktree)
        commit=$(artvcs commit-version --name scripted --type dataset "$tree" | cut -f1)
        artvcs update-ref refs/aliases/me/proj/scripted/best "$commit" 0000000000000000000000000000000000000000
        test "$(artvcs rev-parse scripted:best | cut -f1)" = "$commit"
        artvcs ls-manifest scripted:best > manifest.txt
        d=$(head -1 manifest.txt | cut -f1)
        test "$(artvcs cat-object "$d")" = "one"
        tree2=$( (cat manifest.txt; artvcs hash-object -w --stdin <<< "three" | sed 's#\\t-$#\\tc.txt#') | artvcs mktree)
        artvcs commit-version --name scripted --type dataset "$tree2" > /dev/null
        artvcs fsck
        """
    )
    env = {**os.environ, "PATH": os.path.dirname(__import__("sys").executable) + os.pathsep + os.environ["PATH"]}
    subprocess.run(["bash", "-c", script], cwd=data, env=env, check=True)
    git = ["git", "--git-dir", str(data / ".artifacts")]
    subprocess.run(git + ["fsck", "--strict"], check=True, capture_output=True)
    log = subprocess.run(git + ["log", "--format=%s", "refs/collections/me/proj/scripted"], capture_output=True, text=True, check=True)
    assert log.stdout.splitlines() == ["scripted v1", "scripted v0"]
