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
    """Both walks on the same folders: the C one (where built) and the Python one; in processes
    started by a test, ARTVCS_NATIVE says which."""
    if request.param == "native":
        if scanmod._native_tree is None:
            pytest.skip("the C loop was not built (no compiler)")
        monkeypatch.setattr(foldersums, "tree", scanmod._native_tree)
        monkeypatch.delenv("ARTVCS_NATIVE", raising=False)
    else:
        monkeypatch.setattr(foldersums, "tree", scanmod.tree_python)
        monkeypatch.setenv("ARTVCS_NATIVE", "0")
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


# -- the launcher (the console script): the same text, before click loads ---------------------
LAUNCHER = ("import json, sys\nfrom artvcs.porcelain.launch import main\ncode = main(sys.argv[1:])\n"
            "sys.stdout.flush()\nloaded = sorted(m for m in ('click', 'pygit2', 'yaml') if m in sys.modules)\n"
            "print(json.dumps({'code': code, 'loaded': loaded}), file=sys.stderr)")
# the click command with the quick path taken away: what the full status prints
FULL = ("import sys\nfrom artvcs.git import status\nstatus.quick = lambda paths: None\n"
        "from artvcs.porcelain.cli import main\nsys.exit(main(sys.argv[1:]))")


def _launch(cwd, *args) -> tuple[int, str, str, dict]:
    p = subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True, text=True, cwd=cwd)
    last = p.stderr.rstrip("\n").rfind("\n") + 1  # the facts are the last line; the command's stderr is before it
    err, facts = p.stderr[:last], json.loads(p.stderr[last:])
    assert p.returncode == 0 and facts["code"] in (0, 1, 2), p.stderr
    return facts["code"], p.stdout, err, facts


def _full(cwd, *args) -> tuple[int, str, str]:
    p = subprocess.run([sys.executable, "-c", FULL, *args], capture_output=True, text=True, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def _not_pinned(data):
    decl = data.parent / "artvcs.yaml"
    decl.write_text(decl.read_text() + "  more/:\n    name: more\n    type: dataset\n")


def _nothing(data):
    pass


@pytest.mark.parametrize("args", [["status"], ["status", "--json"], ["status", "--exit-code"],
                                  ["status", "--json", "--exit-code"]])
@pytest.mark.parametrize("change", [_nothing, _not_pinned, _edit, _gone, _extra])
def test_the_launcher_prints_what_the_full_status_prints(cli, tracked, repo_dir, change, args):
    assert cli("checkout", "data:v0", str(repo_dir / "copy"))[0] == 0  # a recorded folder besides the tracked one
    time.sleep(1.1)  # older than the racy margin of a local clock
    _full(repo_dir, "status")  # the full status records what checkout could not vouch for yet
    change(tracked)
    code, out, err, facts = _launch(repo_dir, *args)
    assert (code, out, err) == _full(repo_dir, *args)
    quick = change in (_nothing, _not_pinned)
    assert ("click" not in facts["loaded"]) == quick, facts  # answered before click loads exactly when up to date
    if quick:  # once the lock file's YAML is parsed (and kept in the cache), not even the YAML parser loads
        assert _launch(repo_dir, *args)[1:] == (out, err, {"code": code, "loaded": []})
    assert code == (1 if "--exit-code" in args and change is not _nothing else 0)
    if change is _not_pinned and "--json" in args:
        assert [r["state"] for r in json.loads(out)] == ["clean", "not pinned", "clean"]


@pytest.mark.parametrize("args", [["status", "--help"], ["status", "--bogus"], ["status", "data"], ["--version", "-h"], [],
                                  ["status", "--json", "extra"]])
def test_the_launcher_leaves_everything_else_to_click(tracked, repo_dir, args):
    code, out, err, facts = _launch(repo_dir, *args)
    assert (code, out, err) == _full(repo_dir, *args) and "click" in facts["loaded"]


def test_the_launcher_with_no_folder_to_show_or_no_repository(repo_dir, tmp_path_factory):
    code, out, err, facts = _launch(repo_dir, "status")
    assert (code, out, err) == _full(repo_dir, "status") and "nothing to show" in err
    elsewhere = tmp_path_factory.mktemp("no-repository")
    code, out, err, facts = _launch(elsewhere, "status")
    assert (code, out, err) == _full(elsewhere, "status") and code == 1 and "no .artifacts repository" in err


def test_the_console_script_is_the_launcher():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "artvcs"]
    assert script.value == "artvcs.porcelain.launch:console_main"


def test_a_status_the_launcher_could_not_tell_looks_once(tracked, repo_dir):
    """After the launcher's quick look declined, the click command goes to the full status without
    looking again (the walk and the stat-cache reads are not done twice)."""
    _edit(tracked)
    _counted(repo_dir, "from artvcs.git import quickstatus as watched\nwatched_name = 'rows'\n", "main(['status'])",
             "asked 1 code 0")  # and the edit is shown, as the full status shows it


def test_main_called_in_process_keeps_its_process(tracked, repo_dir):
    """Only the console script's own process is ended at once after a quick answer: a caller of
    ``main()`` (sys.argv given, no argv) gets the exit code back and goes on."""
    _counted(repo_dir, "sys.argv = ['artvcs', 'status']\nimport artvcs.porcelain.launch as watched\n"
             "watched_name = 'quick_status'\n", "main()", "asked 1 code 0")


def _counted(repo_dir, setup: str, call: str, said: str) -> None:
    """Run ``call`` of the launcher in a fresh process after ``setup`` names a function to count
    (``watched``.``watched_name``); its stderr tells the count and the code, its stdout is the
    full status's."""
    code = ("import sys\n" + setup + "asked = []\nreal = getattr(watched, watched_name)\n"
            "setattr(watched, watched_name, lambda *a: asked.append(a) or real(*a))\n"
            "from artvcs.porcelain.launch import main\ncode = " + call + "\n"
            "print('asked', len(asked), 'code', code, file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_dir)
    assert said in p.stderr, p.stderr
    assert p.stdout == _full(repo_dir, "status")[1]
