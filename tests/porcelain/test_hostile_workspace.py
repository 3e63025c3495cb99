"""A git repository handed to you may lie: its commits can hold symbolic links where artvcs.lock
pins a tracked path. Neither ``artvcs checkout --force``, the git hooks nor ``status`` may write,
delete or vouch for anything through such a link; each says which link, once, on stderr."""
from __future__ import annotations

import json
import os

import pytest

from .test_git_integration import artvcs, files, git, gitrepo  # noqa: F401 (fixture)


@pytest.fixture
def outside(tmp_path_factory):
    """A folder of someone's own, outside the work tree: what a planted link points at."""
    home = tmp_path_factory.mktemp("home")
    (home / "notes.txt").write_text("precious\n")
    (home / "x.csv").write_text("mine\n")
    return home


def _tracked(gitrepo, rel: str) -> None:
    """``rel`` (data or sub/data) tracked and committed with a file in it, hooks installed."""
    data = gitrepo / rel
    data.mkdir(parents=True)
    (data / "x.csv").write_text("1,2\n")
    artvcs("init", "--entity", "me", "--project", "proj")
    artvcs("track", rel, "--name", "mnist")
    artvcs("hooks", "install")
    git("add", "artvcs.yaml", "artvcs.lock", ".gitignore")
    git("commit", "-qm", "data v0")


def _plant(gitrepo, rel: str, outside) -> None:
    """Replace folder ``rel`` by a link to ``outside`` and commit it (as a hostile commit would)."""
    for f in (gitrepo / rel).iterdir():
        f.unlink()
    (gitrepo / rel).rmdir()
    os.symlink(outside, gitrepo / rel)
    git("add", "-f", rel)
    git("commit", "-qm", "a link where the data was")


@pytest.mark.parametrize("rel,link", [("data", "data"), ("sub/data", "sub")])
def test_checkout_force_never_writes_or_deletes_through_a_committed_link(gitrepo, outside, rel, link):
    _tracked(gitrepo, rel)
    if link != rel:  # the link is a folder on the way: sub -> outside, outside/data the target
        (outside / "data").mkdir()
        (outside / "data" / "keep.txt").write_text("keep\n")
        os.rename(gitrepo / rel, gitrepo / "moved")
        (gitrepo / link).rmdir()
        os.symlink(outside, gitrepo / link)
        git("add", "-f", link)
        git("commit", "-qm", "a link on the way")
    else:
        _plant(gitrepo, rel, outside)
    before = files(outside)
    p = artvcs("checkout", "--force", check=False)
    assert p.returncode == 1 and p.stdout == "" and p.stderr.count("\n") == 1, p.stderr
    assert f"'{gitrepo / link}' is a symbolic link (to '{outside}')" in p.stderr and "Traceback" not in p.stderr
    assert files(outside) == before


def test_git_hooks_refuse_a_committed_link_and_the_way_back_works(gitrepo, outside):
    _tracked(gitrepo, "data")
    _plant(gitrepo, "data", outside)
    before = files(outside)
    git("checkout", "-q", "HEAD~1")  # back to the real folder: the hook brings the data back
    assert (gitrepo / "data" / "x.csv").read_text() == "1,2\n" and not os.path.islink(gitrepo / "data")
    p = git("checkout", "-q", "main", check=False)  # onto the link: the hook refuses, git has switched
    assert os.path.islink(gitrepo / "data") and "is a symbolic link" in p.stderr
    assert files(outside) == before


def test_status_does_not_vouch_for_a_linked_folder(gitrepo, outside):
    _tracked(gitrepo, "data")
    _plant(gitrepo, "data", outside)
    (outside / "notes.txt").unlink()
    (outside / "x.csv").write_text("1,2\n")  # the link's target holds exactly the pinned version
    p = artvcs("status", "--json")
    (row,) = [r for r in json.loads(p.stdout) if r["path"].rstrip("/").endswith("data")]
    assert row["state"] == "unresolvable" and "is a symbolic link" in row["detail"]
    assert artvcs("status", "--exit-code", check=False).returncode == 1


def test_track_refuses_a_gitignore_that_is_a_link_and_changes_nothing(gitrepo, outside):
    """git checks a .gitignore link out of a commit as readily as a file: appending through it
    would write outside the work tree."""
    (gitrepo / "data").mkdir()
    (gitrepo / "data" / "x.csv").write_text("1,2\n")
    artvcs("init", "--entity", "me", "--project", "proj")
    os.symlink(outside / "notes.txt", gitrepo / ".gitignore")
    before, listed = files(outside), sorted(os.listdir(gitrepo))
    p = artvcs("track", "data", "--name", "mnist", check=False)
    assert p.returncode == 1 and p.stdout == "" and p.stderr.count("\n") == 1, p.stderr
    assert f"{gitrepo / '.gitignore'} is a symbolic link" in p.stderr and "Traceback" not in p.stderr
    assert files(outside) == before and sorted(os.listdir(gitrepo)) == listed


def test_hooks_install_never_writes_through_a_link_under_its_temporary_name(gitrepo, outside):
    """core.hooksPath can name a folder of the work tree, which a commit fills, links and all."""
    (gitrepo / ".githooks").mkdir()
    os.symlink(outside / "notes.txt", gitrepo / ".githooks" / "pre-commit.artvcs-tmp")
    git("config", "core.hooksPath", ".githooks")
    before = files(outside)
    artvcs("hooks", "install")
    assert files(outside) == before
    assert not os.path.lexists(gitrepo / ".githooks" / "pre-commit.artvcs-tmp")
    assert "artvcs" in (gitrepo / ".githooks" / "pre-commit").read_text()
