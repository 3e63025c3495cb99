"""Drafts: validation, adding and removing entries, finalize, not-logged errors."""
from __future__ import annotations

import os

import pytest

import artvcs
from artvcs.errors import ArtifactFinalizedError, ArtifactNotLoggedError, ArtvcsError


@pytest.mark.parametrize("name", ["", "a b", "a/b", "a:b", "x" * 129, ".", "..", None, 3])
def test_bad_names_are_refused(project, name):
    with pytest.raises(ValueError) as e:
        artvcs.Artifact(name, type="dataset")
    assert isinstance(e.value, ArtvcsError)
    assert repr(name)[:20] in str(e.value) or str(name)[:20] in str(e.value)


@pytest.mark.parametrize("type_", ["job", "wandb-history", "bad type"])
def test_reserved_and_bad_types_are_refused(project, type_):
    with pytest.raises(ValueError, match="type"):
        artvcs.Artifact("ok", type=type_)


def test_metadata_rules(project):
    with pytest.raises(ValueError, match="at most 100"):
        artvcs.Artifact("a", "dataset", metadata={f"k{i}": i for i in range(101)})
    # NaN is stored as None, as W&B stores it; infinity has no JSON form
    assert artvcs.Artifact("a", "dataset", metadata={"x": float("nan")}).metadata == {"x": None}
    with pytest.raises(ValueError, match="infinity"):
        artvcs.Artifact("a", "dataset", metadata={"x": float("inf")})
    with pytest.raises(ValueError, match="JSON"):
        artvcs.Artifact("a", "dataset", metadata={"x": object()})
    src = {"nested": {"k": [1, 2]}}
    a = artvcs.Artifact("a", "dataset", metadata=src)
    src["nested"]["k"].append(3)
    assert a.metadata == {"nested": {"k": [1, 2]}}, "metadata must be deep-copied"


def test_add_file_dir_and_manifest_entries(project, files):
    a = artvcs.Artifact("data", "dataset")
    assert a.state == "PENDING" and a.is_draft()
    e = a.add_file(str(files / "a.txt"))
    assert e.path == "a.txt" and e.size == 6
    a.add_dir(str(files), name="all")
    assert sorted(a.manifest.entries) == ["a.txt", "all/a.txt", "all/b.txt", "all/sub/c.bin"]
    assert a.manifest.entries["all/sub/c.bin"].size == 1024
    assert len(a.manifest) == 4 and a.size == 6 + 6 + 5 + 1024
    assert a.get_added_local_path_name(str(files / "b.txt")) == "all/b.txt"
    assert a.get_added_local_path_name(str(files / "nope")) is None


def test_entry_paths_normalised_and_refused(project, files):
    a = artvcs.Artifact("data", "dataset")
    assert a.add_file(str(files / "a.txt"), name="./x//y\\z.txt").path == "x/y/z.txt"
    for bad in ["/abs.txt", "../up.txt", "a/../../b", "C:evil", "\\\\server\\share", "", ".", "nul\x00.txt"]:
        with pytest.raises(ValueError):
            a.add_file(str(files / "a.txt"), name=bad)
    assert sorted(a.manifest.entries) == ["x/y/z.txt"], "a refused add changes nothing"


def test_adding_a_path_twice(project, files):
    a = artvcs.Artifact("data", "dataset")
    a.add_file(str(files / "a.txt"), name="f")
    a.add_file(str(files / "a.txt"), name="f")  # same content: fine
    with pytest.raises(ValueError, match="overwrite=True"):
        a.add_file(str(files / "b.txt"), name="f")
    assert a.manifest.entries["f"].size == 6
    a.add_file(str(files / "b.txt"), name="f", overwrite=True)
    assert a.manifest.entries["f"].size == 5
    a.add_dir(str(files))
    (files / "a.txt").write_text("changed!\n")
    with pytest.raises(ValueError, match="merge=True"):
        a.add_dir(str(files))
    a.add_dir(str(files), merge=True)
    assert a.manifest.entries["a.txt"].size == 9


def test_policy_and_snapshot(project, files):
    a = artvcs.Artifact("data", "dataset")
    with pytest.raises(ValueError, match="mutable"):
        a.add_file(str(files / "a.txt"), policy="sometimes")
    e = a.add_file(str(files / "a.txt"))
    (files / "a.txt").write_text("edited after add\n")
    with artvcs.init() as run:
        run.log_artifact(a)
    out = a.download(str(project / "out"))
    assert open(os.path.join(out, "a.txt")).read() == "alpha\n", "mutable policy snapshots at add time"
    assert a.manifest.entries["a.txt"].digest == e.digest


def test_new_file_and_remove(project, files):
    a = artvcs.Artifact("data", "dataset")
    with a.new_file("notes/readme.md") as f:
        f.write("hello")
    with a.new_file("blob.bin", mode="wb") as f:
        f.write(b"\x00\x01")
    a.add_dir(str(files), name="d")
    a.remove("d/sub")
    assert sorted(a.manifest.entries) == ["blob.bin", "d/a.txt", "d/b.txt", "notes/readme.md"]
    a.remove(a.manifest.entries["blob.bin"])
    with pytest.raises(FileNotFoundError):
        a.remove("missing")


def test_finalized_and_not_logged_errors(project, files):
    a = artvcs.Artifact("data", "dataset")
    for call in (lambda: a.download(), lambda: a.checkout(), lambda: a.verify(), lambda: a.file(),
                 lambda: a.files(), lambda: a.delete(), lambda: a.link("p"), lambda: a.unlink(),
                 lambda: a.used_by(), lambda: a.logged_by(), lambda: a.new_draft(), lambda: a.get_entry("x"),
                 lambda: a.get("x"), lambda: a.json_encode(), lambda: a.version, lambda: a.entity,
                 lambda: a.commit_hash, lambda: a.wait()):
        with pytest.raises(ArtifactNotLoggedError) as e:
            call()
        assert isinstance(e.value, AttributeError)
    assert a.id is None and a.name == "data" and a.source_name == "data"
    a.add_file(str(files / "a.txt"))
    a.finalize()
    for call in (lambda: a.add_file(str(files / "b.txt")), lambda: a.add_dir(str(files)),
                 lambda: a.add_reference("file://" + str(files / "a.txt")), lambda: a.remove("a.txt")):
        with pytest.raises(ArtifactFinalizedError) as e:
            call()
        assert isinstance(e.value, AttributeError)
    with pytest.raises(ArtifactFinalizedError):
        with a.new_file("x.txt") as f:
            f.write("x")


def test_symlinks_in_add_dir(project, files, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("s")
    os.symlink(files / "a.txt", files / "link-to-file")
    os.symlink(outside, files / "link-to-dir")
    a = artvcs.Artifact("data", "dataset")
    with pytest.warns(UserWarning, match="link-to-dir"):
        a.add_dir(str(files))
    assert "link-to-file" in a.manifest.entries
    assert not any(p.startswith("link-to-dir") for p in a.manifest.entries)
    assert a.manifest.entries["link-to-file"].digest == a.manifest.entries["a.txt"].digest


def test_missing_files_are_artvcs_errors_and_file_not_found(project, files):
    a = artvcs.Artifact("data", "dataset")
    for call in (lambda: a.add_file("nope.txt"), lambda: a.add_dir("nope"), lambda: a.remove("nope")):
        with pytest.raises(FileNotFoundError) as e:
            call()
        assert isinstance(e.value, ArtvcsError) and "nope" in str(e.value)


def test_is_tmp_skip_cache_and_immutable(project, files):
    a = artvcs.Artifact("data", "dataset")
    e = a.add_file(str(files / "a.txt"), name="x/tmp.txt", is_tmp=True)
    assert e.path.startswith("x/tmp.") and e.path.endswith(".txt") and e.path != "x/tmp.txt"
    s = a.add_file(str(files / "b.txt"), skip_cache=True)
    store = a._repo().store
    assert not store.has(s.digest), "skip_cache stores nothing until the artifact is logged"
    i = a.add_file(str(files / "sub" / "c.bin"), policy="immutable")
    assert os.stat(store.path_of(i.digest)).st_ino == os.stat(files / "sub" / "c.bin").st_ino
    with artvcs.init() as run:
        run.log_artifact(a)
    assert store.has(s.digest)
    b = artvcs.Artifact("data2", "dataset")
    late = files / "late.txt"
    late.write_text("late content, not stored yet")
    b.add_file(str(late), skip_cache=True)
    late.write_text("changed before logging")
    with artvcs.init() as run:
        with pytest.raises(ArtvcsError, match="changed after it was added"):
            run.log_artifact(b)
    assert b.is_draft()


def test_init_creates_a_repository_at_the_git_root(tmp_path, monkeypatch, capfd):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "deep")
    monkeypatch.delenv("ARTVCS_DIR", raising=False)
    monkeypatch.setenv("ARTVCS_ENTITY", "me")
    run = artvcs.init(project="p")
    run.finish()
    err = capfd.readouterr().err
    assert (tmp_path / ".artifacts" / "artvcs-format").exists()
    assert err.count("\n") == 1 and str(tmp_path / ".artifacts") in err


def test_runs_record_the_host_git_commit_and_dirty_flag(tmp_path, monkeypatch):
    import subprocess

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    (tmp_path / "train.py").write_text("print(1)\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "train.py"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "c"], check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTVCS_ENTITY", "me")
    clean = artvcs.init(project="p", job_type="a")
    clean.finish()
    (tmp_path / "train.py").write_text("print(2)\n")
    dirty = artvcs.init(project="p", job_type="b")
    dirty.finish()
    assert clean.git == {"commit": head, "branch": "main", "dirty": False, "root": str(tmp_path)}
    assert dirty.git["dirty"] is True and dirty.git["commit"] == head
