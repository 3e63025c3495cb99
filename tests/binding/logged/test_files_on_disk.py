"""download, checkout, verify, file and files of logged artifacts."""
from __future__ import annotations

import os

import pytest

import artvcs


@pytest.fixture
def logged(project, files):
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", "dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    return a


def _tree(root):
    return sorted(os.path.relpath(os.path.join(r, f), root) for r, _, fs in os.walk(root) for f in fs)


def test_download_default_root_and_leaves_other_files(project, logged):
    out = logged.download()
    assert out == os.path.abspath(os.path.join("artifacts", "ds:v0"))
    assert _tree(out) == ["a.txt", "b.txt", "sub/c.bin"]
    other = os.path.join(out, "mine.txt")
    open(other, "w").write("keep me")
    with open(os.path.join(out, "a.txt"), "w") as f:
        f.write("tampered")
    logged.download()
    assert open(other).read() == "keep me"
    assert open(os.path.join(out, "a.txt")).read() == "alpha\n", "download repairs the artifact's own files"


def test_checkout_makes_root_exactly_the_artifact(project, logged):
    root = project / "co"
    (root / "stale" / "deep").mkdir(parents=True)
    (root / "stale" / "deep" / "x.txt").write_text("x")
    (root / "extra.txt").write_text("e")
    assert logged.checkout(str(root)) == str(root)
    assert _tree(root) == ["a.txt", "b.txt", "sub/c.bin"]
    assert not (root / "stale").exists()
    logged.verify(str(root))


def test_verify_reports_each_kind_of_difference(project, logged):
    root = project / "v"
    logged.checkout(str(root))
    (root / "a.txt").write_text("alphA\n")
    with pytest.raises(ValueError, match=r"a.txt \(modified\)"):
        logged.verify(str(root))
    logged.checkout(str(root))
    (root / "b.txt").unlink()
    with pytest.raises(ValueError, match=r"b.txt \(missing\)"):
        logged.verify(str(root))
    logged.checkout(str(root))
    (root / "new.txt").write_text("n")
    with pytest.raises(ValueError, match=r"new.txt \(extra\)"):
        logged.verify(str(root))


def test_file_and_files(project, logged, files):
    with pytest.raises(ValueError, match="exactly one file"):
        logged.file()
    with artvcs.init() as run:
        single = artvcs.Artifact("one", "model")
        single.add_file(str(files / "b.txt"))
        run.log_artifact(single)
    path = single.file(str(project / "single"))
    assert path == str(project / "single" / "b.txt") and open(path).read() == "beta\n"
    pages = list(logged.files(per_page=2).pages())
    assert [[f.name for f in p] for p in pages] == [["a.txt", "b.txt"], ["sub/c.bin"]]
    assert [f.name for f in logged.files(names=["sub/c.bin", "nope"])] == ["sub/c.bin"]
    f = next(iter(logged.files(names=["a.txt"])))
    assert f.size == 6 and f.digest == logged.get_entry("a.txt").digest
    with pytest.raises(KeyError):
        logged.get_entry("nope.txt")
    assert logged.get_entry("sub/c.bin").download(str(project / "e")).endswith("sub/c.bin")


def test_hardlink_mode_shares_read_only_store_files(project, logged, monkeypatch):
    monkeypatch.setenv("ARTVCS_LINK_MODE", "hardlink")
    root = project / "h"
    logged.checkout(str(root))
    store_file = logged._context.repo.store.path_of(logged.get_entry("a.txt").digest)
    assert os.stat(root / "a.txt").st_ino == os.stat(store_file).st_ino
    assert not os.access(root / "a.txt", os.W_OK) or os.geteuid() == 0
    logged.verify(str(root))


@pytest.mark.parametrize("loaded", [False, True])
def test_download_path_prefix_of_a_version_read_or_not(project, logged, loaded):
    # a version fetched by name and not yet read takes its entries straight from the manifest
    art = artvcs.Api().artifact("ds:v0")
    if loaded:
        art.manifest
    assert _tree(art.download(str(project / "sub-only"), path_prefix="sub")) == ["sub/c.bin"]
    assert _tree(art.download(str(project / "one"), path_prefix="a.txt")) == ["a.txt"]
    assert _tree(art.download(str(project / "by-start"), path_prefix="su")) == ["sub/c.bin"]
    root = project / "co"
    art.checkout(str(root))
    assert _tree(root) == ["a.txt", "b.txt", "sub/c.bin"]
