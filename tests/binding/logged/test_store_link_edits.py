"""An edit of a file checked out with --link hardlink or symlink changes the store (root ignores
the read-only mode): verify and fsck find it and name that cause."""
from __future__ import annotations

import os

import pytest


def edit_in_place(path) -> None:
    """What root (or an owner who chmods) can do to a read-only checked-out file: rewrite its bytes."""
    os.chmod(os.path.realpath(path), 0o644)
    with open(path, "r+b") as f:
        f.write(b"EVIL")


@pytest.mark.parametrize("mode,cause", [("hardlink", "a hard link to the stored file"),
                                        ("symlink", "a symbolic link into the artifact store")])
def test_verify_and_fsck_name_the_cause(project, cli, tmp_path, mode, cause):
    (project / "a.txt").write_text("good data\n")
    assert cli("log", "a.txt", "--name", "ds", "--type", "dataset").code == 0
    out = tmp_path / "out"
    r = cli("checkout", "--link", mode, "ds:v0", str(out))
    assert r.code == 0, r.err
    edit_in_place(out / "a.txt")
    r = cli("verify", "ds:v0", str(out))
    assert r.code == 1 and r.err.count("\n") == 1
    assert f"a.txt (modified, {cause})" in r.err and "--link hardlink or symlink are the stored content" in r.err
    r = cli("fsck")
    assert r.code == 1 and "corrupt-content" in r.out
    if mode == "hardlink":
        assert "hard links: a checkout with --link hardlink shares it" in r.out


def test_a_copy_edit_names_no_store_cause(project, cli, tmp_path):
    (project / "a.txt").write_text("good data\n")
    assert cli("log", "a.txt", "--name", "ds", "--type", "dataset").code == 0
    out = tmp_path / "out"
    assert cli("checkout", "--link", "copy", "ds:v0", str(out)).code == 0
    edit_in_place(out / "a.txt")
    r = cli("verify", "ds:v0", str(out))
    assert r.code == 1 and "a.txt (modified)" in r.err and "stored content" not in r.err
    assert cli("fsck").code == 0
