"""``artvcs diff``: two versions, a version and a folder, or a folder alone; attributes; --name-status, --exit-code."""
from __future__ import annotations

import os


def _two(cli, data):
    assert cli("log", str(data), "--name", "ds", "--type", "dataset", "--alias", "raw", "--metadata", "rows=2")[0] == 0
    (data / "c.txt").write_text("gamma\n")
    (data / "a.txt").write_text("ALPHA!\n")
    assert cli("log", str(data), "--name", "ds", "--description", "more", "--metadata", "rows=3", "--metadata", "ok=true")[0] == 0


def test_attributes_beside_files(cli, data):
    _two(cli, data)
    got = cli.json("diff", "ds:v0", "ds:v1")
    assert got["old"] == "me/proj/ds:v0" and got["new"] == "me/proj/ds:v1"
    assert got["attributes"] == [
        {"field": "description", "old": None, "new": "more"},
        {"field": "metadata.ok", "old": None, "new": True},
        {"field": "metadata.rows", "old": 2, "new": 3},
        {"field": "aliases", "old": ["raw"], "new": ["latest"]},
    ]
    code, out, _ = cli("diff", "ds:v0", "ds:v1")
    assert code == 0 and out.splitlines() == [
        'description: - -> "more"', "metadata.ok: - -> true", "metadata.rows: 2 -> 3", 'aliases: ["raw"] -> ["latest"]',
        "M a.txt  (6 B -> 7 B)", "+ c.txt  (6 B)", "1 added, 0 removed, 1 modified, +7 B"]
    cli("log", str(data), "--name", "other", "--type", "model")
    assert {"field": "type", "old": "dataset", "new": "model"} in cli.json("diff", "ds:v1", "other:v0")["attributes"]


def test_name_status_and_exit_code(cli, data):
    _two(cli, data)
    code, out, _ = cli("diff", "ds:v0", "ds:v1", "--name-status")
    assert code == 0 and out == "M\ta.txt\nA\tc.txt\n"
    assert cli("diff", "ds:v0", "ds:v1", "--exit-code")[0] == 1
    assert cli("diff", "ds:v0", "ds:v1", "--exit-code", "--stat")[0] == 1
    code, out, _ = cli("diff", "ds:v1", "ds:v1", "--exit-code")
    assert code == 0 and out == "0 added, 0 removed, 0 modified, +0 B\n"
    code, out, _ = cli("diff", "ds:v1", "ds:v0", "--name-status", "--exit-code")
    assert code == 1 and out == "M\ta.txt\nD\tc.txt\n"


def test_a_version_and_a_folder(cli, data, repo_dir):
    _two(cli, data)
    out = repo_dir / "out"
    cli("checkout", "ds:v0", str(out))
    assert cli("diff", "ds:v0", str(out), "--exit-code")[0] == 0
    (out / "a.txt").write_text("edited\n")
    (out / "new.txt").write_text("n\n")
    (out / "sub" / "b.txt").unlink()
    got = cli.json("diff", "ds:v0", str(out))
    assert got["old"] == "me/proj/ds:v0" and got["new"] == f"{out}/" and got["attributes"] == []
    assert [(c["status"], c["path"], c["old_size"], c["new_size"]) for c in got["changes"]] == [
        ("modified", "a.txt", 6, 7), ("added", "new.txt", None, 2), ("removed", "sub/b.txt", 5, None)]
    assert got["changes"][1]["new_digest"] and len(got["changes"][1]["new_digest"]) == 64
    code, text, _ = cli("diff", str(out), "--name-status", "--exit-code")
    assert code == 1 and text == "M\ta.txt\nA\tnew.txt\nD\tsub/b.txt\n", "a folder alone: against the version it holds"
    code, text, _ = cli("diff", str(out), "ds:v0", "--name-status")
    assert text == "M\ta.txt\nD\tnew.txt\nA\tsub/b.txt\n", "from the folder to the version: the other way round"
    assert cli("diff", "ds:v1", str(data), "--exit-code")[0] == 0, "a logged folder equals its version"


def test_what_cannot_be_compared(cli, data, repo_dir):
    _two(cli, data)
    (repo_dir / "plain").mkdir()
    code, _, err = cli("diff", str(repo_dir / "plain"))
    assert code == 1 and "no version is recorded" in err and err.count("\n") == 1
    code, _, err = cli("diff", str(data), str(repo_dir / "plain"))
    assert code == 1 and "both are folders" in err
    code, _, err = cli("diff", "ds:v0")
    assert code == 1 and "give two versions, a version and a folder, or a folder" in err
    code, _, err = cli("diff", "ds:v0", "data:v9")
    assert code == 1 and err.startswith("artvcs: error:")


def test_a_tracked_folder_alone_is_compared_with_its_pin(cli, data, repo_dir):
    import subprocess

    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    assert cli("track", str(data), "--name", "ds", "--type", "dataset")[0] == 0
    (data / "a.txt").write_text("now\n")
    got = cli.json("diff", str(data))
    assert got["old"] == "me/proj/ds:v0" and [c["path"] for c in got["changes"]] == ["a.txt"]
    os.chdir(data)
    assert cli("diff", ".", "--exit-code")[0] == 1
