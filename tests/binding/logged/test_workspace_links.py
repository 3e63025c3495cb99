"""A symbolic link where the version names a regular file is not that file: status, verify, diff and
Artifact.verify report it as changed whatever its target holds, as checkout (which replaces it) sees it."""
from __future__ import annotations

import json
import os

import pytest

from artvcs.plumbing.errors import UsageError


@pytest.fixture
def out(project, cli, tmp_path):
    """Version ds:v0 (a.txt, sub/b.txt) checked out (copies) in tmp_path/out."""
    (project / "a.txt").write_text("good data\n")
    (project / "sub").mkdir()
    (project / "sub" / "b.txt").write_text("more\n")
    assert cli("log", "a.txt", "sub", "--name", "ds", "--type", "dataset").code == 0
    out = tmp_path / "out"
    assert cli("checkout", "ds:v0", str(out)).code == 0, "checkout"
    return out


def _link_same_bytes(out, tmp_path, rel: str) -> None:
    """Replace ``rel`` by a link to a file outside the folder holding exactly the same bytes."""
    twin = tmp_path / ("twin-" + rel.replace("/", "-"))
    twin.write_bytes((out / rel).read_bytes())
    os.unlink(out / rel)
    os.symlink(twin, out / rel)


def _everyone_says_not_a_file(project, cli, out, rel: str) -> None:
    r = cli("verify", "ds:v0", str(out))
    assert r.code == 1 and f"{rel} (not a file)" in r.err and r.err.count("\n") == 1, r.err
    r = cli("status", "--json", str(out))
    rows = json.loads(r.out)
    assert rows[0]["state"] == "modified" and {"path": rel, "problem": "not a file"} in rows[0]["changes"], rows
    r = cli("status", str(out))
    assert "not a file" in r.out and rel in r.out
    r = cli("diff", "--json", "ds:v0", str(out))
    changes = json.loads(r.out)["changes"]
    assert [(c["status"], c["path"], c["new_digest"]) for c in changes] == [("modified", rel, None)], changes
    from artvcs import Api

    with pytest.raises(UsageError, match=f"{rel} \\(not a file\\)"):
        Api().artifact("ds:v0").verify(str(out))


@pytest.mark.parametrize("rel", ["a.txt", "sub/b.txt"])
def test_a_link_to_the_same_bytes_is_not_the_file(project, cli, out, tmp_path, rel):
    assert cli("verify", "ds:v0", str(out)).code == 0
    _link_same_bytes(out, tmp_path, rel)
    _everyone_says_not_a_file(project, cli, out, rel)
    assert cli("checkout", "ds:v0", str(out)).code == 0  # checkout replaces the link by the file: all agree again
    assert not os.path.islink(out / rel)
    assert cli("verify", "ds:v0", str(out)).code == 0
    assert json.loads(cli("status", "--json", str(out)).out)[0]["state"] == "clean"


def test_a_link_inside_the_folder_and_a_dangling_link_are_not_files(project, cli, out, tmp_path):
    os.unlink(out / "sub" / "b.txt")
    os.symlink("../a.txt", out / "sub" / "b.txt")  # within the folder, other bytes
    _everyone_says_not_a_file(project, cli, out, "sub/b.txt")
    os.unlink(out / "sub" / "b.txt")
    os.symlink(tmp_path / "nowhere", out / "sub" / "b.txt")  # "missing" would say nothing is there
    _everyone_says_not_a_file(project, cli, out, "sub/b.txt")


def test_a_symlink_checkout_is_clean_as_before(project, cli, tmp_path):
    (project / "a.txt").write_text("good data\n")
    assert cli("log", "a.txt", "--name", "ds", "--type", "dataset").code == 0
    out = tmp_path / "linked"
    assert cli("checkout", "--link", "symlink", "ds:v0", str(out)).code == 0
    assert os.path.islink(out / "a.txt")
    assert cli("verify", "ds:v0", str(out)).code == 0
    assert json.loads(cli("status", "--json", str(out)).out)[0]["state"] == "clean"
    assert json.loads(cli("diff", "--json", "ds:v0", str(out)).out)["changes"] == []
