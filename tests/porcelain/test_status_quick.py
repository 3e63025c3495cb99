"""An up-to-date ``artvcs status`` is told from files alone (lock file, version ref, folder sums and
the stat cache), with the same rows as the full status; anything else goes to the full status."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from artvcs.git import status as workspace_status
from artvcs.plumbing import foldersums, scan as scanmod
from artvcs.porcelain.app import context_near


@pytest.fixture(params=["native", "python"])
def scan_loop(request, monkeypatch):
    """Both scan loops on the same folders: the C one (where built) and the Python one."""
    if request.param == "native":
        if scanmod._native is None:
            pytest.skip("the C loop was not built (no compiler)")
        monkeypatch.setattr(foldersums, "scan", scanmod._native)
    else:
        monkeypatch.setattr(foldersums, "scan", scanmod.scan_python)
    return request.param


@pytest.fixture
def tracked(cli, data, repo_dir, scan_loop):
    """data/ tracked in a git work tree (its log keeps the version's folder sums)."""
    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    (data / "sub" / "deeper").mkdir()
    (data / "sub" / "deeper" / "odd name \u00e9.txt").write_text("gamma\n")
    time.sleep(0.05)  # the files are older than the log's clock tick, so the stat cache vouches for them
    assert cli("track", str(data))[0] == 0
    return data


def _both() -> tuple[list | None, list]:
    return workspace_status.quick([]), workspace_status.status(context_near(()), [])


def test_an_up_to_date_status_needs_neither_git_nor_a_manifest(cli, tracked, repo_dir):
    assert cli("checkout", "data:v0", str(repo_dir / "copy"))[0] == 0  # a recorded folder besides the tracked one
    time.sleep(1.1)  # older than the racy margin of a local clock: a full status records them if checkout did not
    _, full = _both()
    assert {r["state"] for r in full} == {"clean"}
    quick, full = _both()
    assert quick is not None and quick == full
    assert [(r["path"], r["how"], r["state"]) for r in quick] == [("data/", "pin", "clean"), ("copy/", "checkout", "clean")]
    # the whole command, in a fresh interpreter: same rows, and libgit2 never loaded
    code = ("import json, sys\nfrom artvcs.porcelain.cli import main\ncode = main(['status', '--json'])\n"
            "print(json.dumps({'code': code, 'pygit2': 'pygit2' in sys.modules, 'yaml': 'yaml' in sys.modules}))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_dir)
    rows, facts = p.stdout.rsplit("\n", 2)[0], json.loads(p.stdout.strip().splitlines()[-1])
    assert json.loads(rows) == full and facts == {"code": 0, "pygit2": False, "yaml": False}, p.stderr


def _edit(data):
    (data / "a.txt").write_text("ALPHA\n")  # same size, new content


def _extra(data):
    (data / "sub" / "new.txt").write_text("new\n")


def _gone(data):
    (data / "sub" / "b.txt").unlink()


def _link(data):
    (data / "a.txt").unlink()
    (data / "a.txt").symlink_to("sub/b.txt")


def _folder_with_file(data):
    (data / "more").mkdir()
    (data / "more" / "x.txt").write_text("x\n")


def _folder_is_link(data):
    shutil.move(str(data / "sub"), str(data.parent / "elsewhere"))
    (data / "sub").symlink_to(data.parent / "elsewhere")


def _ref_gone(data):
    refs = data.parent / ".artifacts" / "refs" / "versions" / "me" / "proj" / "data"
    os.rename(refs / "v0", refs.parent / "v0-moved")


def _pin_moved(data):
    lock = data.parent / "artvcs.lock"
    lock.write_text(lock.read_text().replace("version: v0", "version: v1"))


def _unreadable_lock(data):
    (data.parent / "artvcs.lock").write_text("pins: [\n")


@pytest.mark.parametrize("change", [_edit, _extra, _gone, _link, _folder_with_file, _folder_is_link, _unreadable_lock])
def test_anything_but_clean_goes_to_the_full_status(tracked, change):
    change(tracked)
    assert workspace_status.quick([]) is None
    try:
        _, full = _both()
    except Exception as e:  # the full status says what is wrong (an unreadable lock file)
        assert change is _unreadable_lock and "artvcs.lock" in str(e)
        return
    assert any(r["state"] != "clean" for r in full)


@pytest.mark.parametrize("change", [_ref_gone, _pin_moved])
def test_a_pin_that_does_not_name_its_commit_by_ref_goes_to_the_full_status(tracked, change):
    change(tracked)
    assert workspace_status.quick([]) is None
    _, full = _both()  # which finds the version by its digest (a push may renumber versions)
    assert [r["state"] for r in full] == ["clean"]


def test_an_empty_folder_more_is_no_change(tracked):
    (tracked / "empty").mkdir()
    quick, full = _both()
    assert quick == full and {r["state"] for r in full} == {"clean"}


def test_a_file_touched_since_goes_to_the_full_status(tracked):
    os.utime(tracked / "a.txt")  # same bytes, new stat: the cache cannot vouch for it
    assert workspace_status.quick([]) is None
    _, full = _both()
    assert {r["state"] for r in full} == {"clean"}
