"""Logging: version numbers, digests, aliases, incremental, new_draft, types."""
from __future__ import annotations

import os
import subprocess

import pytest

import artvcs


def _draft(name, files, *extra, type_="dataset", **kw):
    a = artvcs.Artifact(name, type=type_, **kw)
    a.add_dir(str(files))
    for path, text in extra:
        with a.new_file(path) as f:
            f.write(text)
    return a


def test_versions_count_up_and_latest_moves(project, files):
    with artvcs.init(job_type="t") as run:
        v0 = run.log_artifact(_draft("ds", files), aliases=["best"])
        v1 = run.log_artifact(_draft("ds", files, ("x.txt", "1")))
        v2 = run.log_artifact(_draft("ds", files, ("x.txt", "2")), aliases=["best"])
    assert [v0.version, v1.version, v2.version] == ["v0", "v1", "v2"]
    assert v2.name == "ds:v2" and v2.qualified_name == "me/proj/ds:v2"
    api = artvcs.Api()
    assert api.artifact("ds").version == "v2"
    assert api.artifact("ds:latest").commit_hash == v2.commit_hash
    assert api.artifact("ds:best").version == "v2", "an alias names one version per collection"
    assert api.artifact("ds:v0").aliases == []
    assert api.artifact("ds:v2").aliases == ["latest", "best"]
    assert v2.state == "COMMITTED" and v2.commit_hash == v2.id
    log = subprocess.run(["git", "--git-dir", str(project / ".artifacts"), "log", "--format=%s", "refs/collections/me/proj/ds"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert log[:3] == ["ds v2", "ds v1", "ds v0"]


def test_same_digest_creates_no_version(project, files):
    with artvcs.init() as run:
        first = run.log_artifact(_draft("ds", files, description="first"))
        again = run.log_artifact(_draft("ds", files, description="second"), aliases=["again"])
    assert again.version == first.version == "v0"
    assert again.description == "first"
    assert "again" in artvcs.Api().artifact("ds:v0").aliases
    assert len(artvcs.Api().artifacts("dataset", "ds")) == 1


def _reword(project, name: str, number: int, message: str) -> None:
    """Give version ``number`` of ``name`` a commit with ``message`` (its tree and parents kept)."""
    import pygit2

    git = pygit2.Repository(str(project / ".artifacts"))
    ref = f"refs/versions/me/proj/{name}/v{number}"
    old = git[git.references[ref].target]
    new = git.create_commit(None, old.author, old.committer, message, old.tree_id, old.parent_ids)
    git.references[ref].set_target(new)


def test_an_equal_version_is_found_by_its_facts_not_only_its_message(project, files):
    # a log looks for an equal version by the digest its commit message names, then reads its facts:
    # a message naming no digest is read by its facts; one naming the digest falsely is no match
    with artvcs.init() as run:
        v0 = run.log_artifact(_draft("ds", files))
        v1 = run.log_artifact(_draft("ds", files, ("x.txt", "1")))
    _reword(project, "ds", 0, "ds v0\n")  # no digest line (as a hand-made commit may have)
    _reword(project, "ds", 1, f"ds v1\n\ndigest {v0.digest}\n")  # forged: names v0's digest
    with artvcs.init() as run:
        again = run.log_artifact(_draft("ds", files))
    assert again.version == "v0" and again.digest == v0.digest  # v1 named it falsely; v0 found by its facts
    with artvcs.init() as run:
        v1_again = run.log_artifact(_draft("ds", files, ("x.txt", "1")))
    # the forged message hides v1's equal content: a new version, nothing lost or mixed up
    assert v1_again.version == "v2" and v1_again.digest == v1.digest
    assert artvcs.Api().artifact("ds:v1").digest == v1.digest


def test_digest_ignores_metadata_name_and_order(project, files):
    a = _draft("one", files, metadata={"a": 1}, description="x")
    b = artvcs.Artifact("two", type="model", metadata={"b": 2})
    for p in sorted((files).rglob("*"), reverse=True):
        if p.is_file():
            b.add_file(str(p), name=str(p.relative_to(files)))
    assert a.digest == b.digest
    c = _draft("one", files, ("more.txt", "m"))
    assert c.digest != a.digest


def test_type_is_fixed_per_collection(project, files):
    with artvcs.init() as run:
        run.log_artifact(_draft("ds", files))
        with pytest.raises(ValueError, match="type 'dataset'"):
            run.log_artifact(_draft("ds", files, ("x", "y"), type_="model"))
    assert len(artvcs.Api().artifacts("dataset", "ds")) == 1


def test_incremental_logs_the_union(project, files):
    with artvcs.init() as run:
        run.log_artifact(_draft("ds", files))
        inc = artvcs.Artifact("ds", "dataset", incremental=True)
        with inc.new_file("extra.txt") as f:
            f.write("extra")
        run.log_artifact(inc)
    got = artvcs.Api().artifact("ds:v1")
    assert sorted(got.manifest.entries) == ["a.txt", "b.txt", "extra.txt", "sub/c.bin"]


def test_new_draft_copies_contents_not_aliases(project, files):
    with artvcs.init() as run:
        v0 = run.log_artifact(_draft("ds", files, description="d", metadata={"k": 1}), aliases=["best"])
        d = v0.new_draft()
        assert d.is_draft() and d.type == "dataset" and d.description == "d" and d.metadata == {"k": 1}
        assert d._aliases == []  # a draft's aliases are W&B's logged-only property (tests/binding/test_wandb_compat.py)
        d.remove("sub")
        with d.new_file("new.txt") as f:
            f.write("n")
        v1 = run.log_artifact(d)
    assert v1.version == "v1" and v1.aliases == ["latest"]
    assert sorted(v1.manifest.entries) == ["a.txt", "b.txt", "new.txt"]
    assert sorted(artvcs.Api().artifact("ds:v0").manifest.entries) == ["a.txt", "b.txt", "sub/c.bin"]
    assert artvcs.Api().artifact("ds:best").version == "v0"


def test_log_a_path_and_module_level_functions(project, files):
    run = artvcs.init(job_type="t")
    art = artvcs.log_artifact(str(files), name="folder", type="dataset")
    assert art.version == "v0" and art.file_count == 3
    used = artvcs.use_artifact("folder:latest")
    assert used.commit_hash == art.commit_hash
    assert artvcs.run is run
    artvcs.finish()
    assert artvcs.run is None
    assert [r.id for r in used.used_by()] == [run.id]


def test_aliases_validation(project, files):
    with artvcs.init() as run:
        for bad in ["v3", "a/b", "a:b", ""]:
            with pytest.raises(ValueError):
                run.log_artifact(_draft("ds", files), aliases=[bad])
        assert not artvcs.Api().artifact_exists("ds")
        art = run.log_artifact(_draft("ds", files), aliases=["ok"])
    art.aliases.append("v9")
    with pytest.raises(ValueError, match="v9"):
        art.save()
    assert artvcs.Api().artifact("ds:v0").aliases == ["latest", "ok"]


def test_a_draft_filled_before_init_logs_into_the_chosen_repository(project, files, tmp_path_factory):
    """Content added before ``init(dir=...)`` is staged in the repository found from the current folder;
    logging into another repository brings it along, so the version is whole there."""
    other = tmp_path_factory.mktemp("elsewhere")
    art = artvcs.Artifact("early", type="dataset")
    art.add_dir(str(files))
    with artvcs.init(dir=str(other)) as run:
        run.log_artifact(art)
    logged = artvcs.Api(dir=str(other)).artifact("early:v0")
    out = logged.download(str(other / "out"))
    assert logged.verify(out) is None
    assert (other / "out" / "sub" / "c.bin").read_bytes() == (files / "sub" / "c.bin").read_bytes()


def test_logging_an_older_versions_content_again_moves_latest_onto_it(project, files):
    """As in W&B: re-logging v0's content after v1 returns v0, and latest names v0 until a newer version."""
    with artvcs.init() as run:
        run.log_artifact(_draft("ds", files))
        (files / "a.txt").write_text("changed\n")
        run.log_artifact(_draft("ds", files))
        assert artvcs.Api().artifact("ds:latest").version == "v1"
        (files / "a.txt").write_text("alpha\n")
        again = run.log_artifact(_draft("ds", files), aliases=["back"])
    assert again.version == "v0" and "latest" in again.aliases
    api = artvcs.Api()
    assert api.artifact("ds:latest").version == "v0"
    assert "latest" not in api.artifact("ds:v1").aliases
    assert len(api.artifacts("dataset", "ds")) == 2
    subprocess.run(["git", "--git-dir=.artifacts", "fsck", "--strict"], check=True, capture_output=True)
    with artvcs.init() as run:
        (files / "new.txt").write_text("newer\n")
        run.log_artifact(_draft("ds", files))
    assert artvcs.Api().artifact("ds:latest").version == "v2", "a newer version takes latest back"
    with artvcs.init() as run:
        (files / "new.txt").unlink()
        run.log_artifact(_draft("ds", files))  # v0's content again: latest moves back to v0
    api = artvcs.Api()
    assert api.artifact("ds:latest").version == "v0"
    api.artifact("ds:v0").delete(delete_aliases=True)
    assert artvcs.Api().artifact("ds:latest").version == "v2", "a deleted version never stays latest"
