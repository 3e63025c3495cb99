"""Plumbing over versions and refs: commit-version, rev-parse, update-ref, show-ref, link-ref.

Commit ids depend on the time of the commit, so these outputs are checked by
format (regular expressions) and by what they lead to, not byte for byte.
"""
from __future__ import annotations

import re

import pytest

from artvcs.plumbing import manifest, refs, versions

ZERO = "0" * 40
OID = "[0-9a-f]{40}"
DIGEST = "[0-9a-f]{64}"


@pytest.fixture
def tree(repo_dir, cli):
    (repo_dir / "a.txt").write_text("one\n")
    (repo_dir / "b.txt").write_text("two\n")
    return cli("mktree", input=cli("hash-object", "-w", "a.txt", "b.txt").out).out.strip()


def commit(cli, *args: str) -> str:
    r = cli("commit-version", *args)
    assert r.code == 0 and r.err == "", r
    return r.out.split("\t")[0]


def test_commit_version_numbers_versions_and_records_facts(repo, cli, tree):
    r = cli("commit-version", "--name", "ds", "--type", "dataset", "--description", "first",
            "--metadata-json", '{"rows": 2, "split": [0.5, 0.5]}', "--run-id", "run1", tree)
    assert re.fullmatch(rf"{OID}\tv0\n", r.out) and r.err == ""
    r2 = cli("commit-version", "--name", "ds", "--type", "dataset", tree)
    assert re.fullmatch(rf"{OID}\tv1\n", r2.out), "an equal digest still makes a version in plumbing"
    v0 = versions.read_version(repo.git, r.out.split("\t")[0])
    digest, size, count = manifest.summarize(manifest.iter_entries(repo.git, v0.manifest))
    assert str(v0.manifest) == tree
    facts = dict(v0.facts)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", facts.pop("created_at"))
    assert facts == {
        "kind": "version", "type": "dataset", "digest": digest, "size": size, "file_count": count,
        "run": {"entity": "me", "project": "proj", "id": "run1"},
        "attrs": {"description": "first", "metadata": {"rows": 2, "split": [0.5, 0.5]}, "ttl": "inherit", "tags": []},
        "format": 1, "version": 0, "entity": "me", "project": "proj", "name": "ds",
    }
    assert (size, count) == (8, 2)
    assert versions.read_version(repo.git, r2.out.split("\t")[0]).facts["run"] is None
    other = commit(cli, "--name", "ds", "--type", "dataset", "--entity", "team", "--project", "other", tree)
    assert versions.read_version(repo.git, other).collection == refs.CollectionId("team", "other", "ds")


def test_rev_parse_resolves_every_spec_form(cli, tree):
    c0 = commit(cli, "--name", "ds", "--type", "dataset", tree)
    (line,) = cli("rev-parse", "ds:v0").out.splitlines(True)
    assert re.fullmatch(rf"{c0}\tme/proj/ds\tv0\t{DIGEST}\n", line)
    digest = line.split("\t")[3].strip()
    for spec in ("ds", "ds:latest", "me/proj/ds:v0", "proj/ds:v0", f"ds:{digest[:8]}", c0[:10], digest[:12], c0):
        assert cli("rev-parse", spec) == (0, line, ""), spec
    assert cli("rev-parse", "--entity", "me", "--project", "proj", "ds").out == line
    c1 = commit(cli, "--name", "ds", "--type", "dataset", tree)
    assert cli("rev-parse", "ds").out.startswith(f"{c1}\tme/proj/ds\tv1\t{digest}")


def test_update_ref_is_compare_and_swap(repo, cli, tree):
    c0 = commit(cli, "--name", "ds", "--type", "dataset", tree)
    c1 = commit(cli, "--name", "ds", "--type", "dataset", tree)
    best = "refs/aliases/me/proj/ds/best"
    assert cli("update-ref", best, c0, ZERO) == (0, "", "")
    assert cli("update-ref", "-m", "promote", best, "ds:v1", "ds:v0") == (0, "", "")
    assert str(refs.read(repo.git, best)) == c1
    assert refs.reflog(repo.git, best)[-1][2] == "promote"
    assert cli("update-ref", "--create", "refs/aliases/me/proj/ds/prod", c1).code == 0
    assert cli("update-ref", "--create", "refs/aliases/me/proj/ds/prod", c0).code == 1, "--create fails if it exists"
    assert cli("update-ref", best, c0).code == 2, "no OLD and no --create: refused as a usage error"
    assert cli("update-ref", "-d", best, c1) == (0, "", "")
    assert refs.read(repo.git, best) is None
    odd = "refs/aliases/me/proj/ds/a%2Eb%20c"
    assert cli("update-ref", "--create", odd, c0).code == 0
    assert cli("rev-parse", "ds:a.b c").out.startswith(c0)


def test_show_ref_lists_refs_sorted(cli, tree):
    c0 = commit(cli, "--name", "ds", "--type", "dataset", tree)
    cli("update-ref", "--create", "refs/aliases/me/proj/ds/best", c0)
    out = cli("show-ref").out
    ns = cli("show-ref", "refs/namespace").out.split("\t")[0]  # the recorded default namespace (artvcs-format(5))
    assert out == (
        f"{c0}\trefs/aliases/me/proj/ds/best\n{c0}\trefs/collections/me/proj/ds\n"
        f"{ns}\trefs/namespace\n{c0}\trefs/versions/me/proj/ds/v0\n"
    )
    assert cli("show-ref", "refs/versions/") == (0, f"{c0}\trefs/versions/me/proj/ds/v0\n", "")
    assert cli("show-ref", "refs/nothing/") == (0, "", "")


def test_link_ref_adds_a_version_to_a_portfolio(repo, cli, tree):
    c0 = commit(cli, "--name", "cnn", "--type", "model", tree)
    for n, portfolio in enumerate(("best-models", "proj/best-models", "me/proj/best-models")):
        r = cli("link-ref", "cnn:v0", portfolio)
        assert re.fullmatch(rf"{OID}\tv{n}\n", r.out) and r.err == "", r
    link = versions.read_version(repo.git, r.out.split("\t")[0])
    assert link.kind == "link" and link.facts["source"]["commit"] == c0
    assert cli("ls-manifest", "best-models:v2").out == cli("ls-manifest", "cnn:v0").out
    r = cli("link-ref", "--entity", "me", "--project", "proj", "cnn", "model-registry/Digits")
    assert r.code == 0 and r.out.endswith("\tv0\n")
    assert cli("rev-parse", "me/model-registry/Digits:v0").out.split("\t")[1] == "me/model-registry/Digits"
