"""A checkout onto a folder that already holds the version is told so from its folder sums and the
stat cache, before the manifest is read, and writes nothing; any doubt runs the full checkout,
which still repairs every kind of change (a byte, a mode, an extra, a missing or a replaced file)."""
from __future__ import annotations

import os
import shutil
import stat
import time

import pytest

import artvcs
from artvcs.logged import materialize
from artvcs.plumbing import checkout as plumbing_checkout, foldersums, scan as scanmod


@pytest.fixture(params=["native", "python"])
def walk(request, monkeypatch):
    if request.param == "native":
        if scanmod._native_tree is None:
            pytest.skip("the C loop was not built (no compiler)")
        monkeypatch.setattr(foldersums, "tree", scanmod._native_tree)
    else:
        monkeypatch.setattr(foldersums, "tree", scanmod.tree_python)
    return request.param


@pytest.fixture
def version(cli, data, repo_dir, walk):
    """data:v0 logged, checked out into copy/ (made by the checkout, so its sums are kept)."""
    (data / "sub" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(data / "sub" / "run.sh", 0o755)
    assert cli("log", str(data), "--name", "data", "--type", "dataset")[0] == 0
    art = artvcs.Api().artifact("data:v0")
    dst = repo_dir / "copy"
    assert materialize.checkout(art, str(dst), mode="copy").written == 3
    time.sleep(1.1)  # older than the racy margin of a local clock: the stat cache can vouch for them
    materialize.checkout(art, str(dst), mode="copy")  # the full look records what it hashed
    return art, dst


def _held(art, dst, mode="copy"):
    repo = art._context.repo
    return plumbing_checkout.already_holds(repo.store, str(dst), repo.statcache, mode, str(art._source.commit),
                                           art._source.facts["digest"])


def _snapshot(folder) -> dict[str, tuple[bytes, bool]]:
    """path → (bytes, is a regular file), links not followed."""
    out = {}
    for base, dirs, files in os.walk(folder):
        for f in files + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
            p = os.path.join(base, f)
            out[os.path.relpath(p, folder)] = (open(p, "rb").read() if os.path.isfile(p) else b"",
                                               stat.S_ISREG(os.lstat(p).st_mode))
    return out


def test_an_up_to_date_folder_is_told_without_the_manifest(version, monkeypatch):
    art, dst = version
    before = _snapshot(dst)
    done = _held(art, dst)
    assert done is not None and done.up_to_date == 3 and done.written == 0
    monkeypatch.setattr(materialize, "_entries", lambda *a: pytest.fail("the manifest was read"))
    result = materialize.checkout(art, str(dst), mode="copy")
    assert (result.up_to_date, result.written, result.removed) == (3, 0, 0) and _snapshot(dst) == before
    for mode in ("hardlink", "symlink"):  # modes that judge a file by its link: always the full look
        assert _held(art, dst, mode) is None


def _byte(dst):
    p = dst / "a.txt"
    p.write_bytes(b"Alpha\n")  # same size


def _mode(dst):
    os.chmod(dst / "sub" / "run.sh", 0o644)


def _extra(dst):
    (dst / "sub" / "extra.txt").write_text("x")


def _missing(dst):
    (dst / "sub" / "b.txt").unlink()


def _symlink(dst):
    (dst / "a.txt").unlink()
    (dst / "a.txt").symlink_to("sub/b.txt")


def _hardlink(dst):
    os.link(dst / "a.txt", dst.parent / "elsewhere.txt")  # a copy must not share its inode


def _folder_link(dst):
    shutil.move(str(dst / "sub"), str(dst.parent / "moved"))
    (dst / "sub").symlink_to(dst.parent / "moved")


@pytest.mark.parametrize("change", [_byte, _extra, _missing, _symlink, _folder_link])
def test_any_change_is_repaired_by_the_full_checkout(version, change):
    art, dst = version
    want = _snapshot(dst)
    change(dst)
    assert _held(art, dst) is None
    result = materialize.checkout(art, str(dst), mode="copy")
    assert _snapshot(dst) == want and result.written + result.removed >= 1


@pytest.mark.parametrize("change", [_mode, _hardlink])
def test_a_stat_the_cache_cannot_vouch_for_goes_to_the_full_checkout(version, change):
    """A new mode (versions keep none) or a second link to a file: not told here; the full checkout
    hashes the file and finds its bytes are the version's."""
    art, dst = version
    want = _snapshot(dst)
    change(dst)
    assert _held(art, dst) is None
    result = materialize.checkout(art, str(dst), mode="copy")
    assert _snapshot(dst) == want and result.up_to_date == 3


@pytest.mark.parametrize("where, top", [("stale", "stale"), ("sub/stale/deeper", "sub/stale")])
def test_an_empty_folder_the_version_lacks_goes_to_the_full_checkout(version, where, top):
    """The walk reports only folders holding files: an empty folder the version does not have is
    seen by the folders' link counts, and the full checkout (which prunes) removes it."""
    art, dst = version
    assert _held(art, dst) is not None
    os.makedirs(dst / where)
    assert _held(art, dst) is None
    materialize.checkout(art, str(dst), mode="copy")
    assert not (dst / top).exists()
    assert _held(art, dst) is not None
