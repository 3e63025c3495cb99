"""``artvcs status [PATH...]``: which version a folder holds and what changed, outside git as inside."""
from __future__ import annotations

import os
import subprocess
import sys

EXE = os.path.join(os.path.dirname(sys.executable), "artvcs")


def _two(cli, data):
    assert cli("log", str(data), "--name", "ds", "--type", "dataset")[0] == 0
    (data / "c.txt").write_text("gamma\n")
    assert cli("log", str(data), "--name", "ds")[0] == 0


def test_a_checked_out_folder_knows_its_version_outside_git(cli, data, repo_dir):
    _two(cli, data)
    out = repo_dir / "out"
    assert cli("checkout", "ds:v0", str(out))[0] == 0
    [row] = cli.json("status", str(out))
    assert row == {"path": "out/", "version": "me/proj/ds:v0", "how": "checkout", "state": "clean", "changes": []}
    code, text, _ = cli("status", str(out), "--exit-code")
    assert code == 0 and text.splitlines()[1].split() == ["out/", "me/proj/ds:v0", "(checkout)", "clean"]
    (out / "a.txt").write_text("changed\n")
    (out / "sub" / "b.txt").unlink()
    (out / "new.txt").write_text("mine\n")
    [row] = cli.json("status", str(out))
    assert row["state"] == "modified" and row["changes"] == [
        {"path": "a.txt", "problem": "modified"}, {"path": "new.txt", "problem": "extra"}, {"path": "sub/b.txt", "problem": "missing"}]
    code, text, _ = cli("status", str(out), "--exit-code")
    assert code == 1 and "modified (3 files)" in text and "  modified  out/a.txt" in text and "     extra  out/new.txt" in text
    assert cli("status", str(out))[0] == 0, "without --exit-code differences are no error"
    assert cli("checkout", "ds:v1", str(out), "--force")[0] == 0
    assert cli.json("status", str(out))[0]["version"] == "me/proj/ds:v1", "the last checkout decides"


def test_without_paths_every_recorded_folder_below_is_listed(cli, data, repo_dir):
    _two(cli, data)
    cli("checkout", "ds:v0", str(repo_dir / "a"))
    cli("download", "ds:v1", str(repo_dir / "b"))
    rows = cli.json("status")
    assert [(r["path"], r["version"], r["how"]) for r in rows] == [
        ("a/", "me/proj/ds:v0", "checkout"), ("b/", "me/proj/ds:v1", "download"), ("data/", "me/proj/ds:v1", "log")]
    assert {r["state"] for r in rows} == {"clean"}
    (repo_dir / "b" / "notes.txt").write_text("kept by download")
    assert cli.json("status", str(repo_dir / "b"))[0]["state"] == "clean", "a download leaves other files alone"
    os.chdir(repo_dir / "a")
    assert [r["path"] for r in cli.json("status")] == ["./"], "only folders at or below the current one"


def test_a_logged_folder_holds_its_version(cli, data):
    cli("log", str(data), "--name", "ds", "--type", "dataset")
    assert cli.json("status", str(data))[0]["state"] == "clean"
    (data / "a.txt").write_text("edited after logging\n")
    row = cli.json("status", str(data))[0]
    assert row["how"] == "log" and row["changes"] == [{"path": "a.txt", "problem": "modified"}]


def test_an_unknown_folder_and_a_vanished_one(cli, data, repo_dir):
    _two(cli, data)
    (repo_dir / "plain").mkdir()
    [row] = cli.json("status", str(repo_dir / "plain"))
    assert row["state"] == "unknown" and row["version"] is None and "no checkout" in row["detail"]
    assert cli("status", str(repo_dir / "plain"), "--exit-code")[0] == 1
    cli("checkout", "ds:v0", str(repo_dir / "gone"))
    subprocess.run(["rm", "-rf", str(repo_dir / "gone")], check=True)
    assert cli.json("status", str(repo_dir / "gone"))[0]["state"] == "missing"
    assert "gone/" not in [r["path"] for r in cli.json("status")], "a folder deleted since is not listed"


def test_status_from_outside_the_project(cli, data, repo_dir, tmp_path_factory):
    _two(cli, data)
    cli("checkout", "ds:v0", str(repo_dir / "out"))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    env = {k: v for k, v in os.environ.items() if k != "ARTVCS_DIR"}
    p = subprocess.run([EXE, "status", str(repo_dir / "out"), "--exit-code"], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert p.returncode == 0 and f"{repo_dir / 'out'}/" in p.stdout and "me/proj/ds:v0" in p.stdout, p.stderr
    p = subprocess.run([EXE, "status", "--exit-code"], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert p.returncode == 1 and "no .artifacts repository" in p.stderr and p.stderr.count("\n") == 1


def test_tracked_paths_and_recorded_folders_together(cli, data, repo_dir):
    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    assert cli("track", str(data))[0] == 0
    cli("checkout", "data:v0", str(repo_dir / "copy"))
    rows = cli.json("status")
    assert [(r["path"], r["how"], r["state"]) for r in rows] == [("data/", "pin", "clean"), ("copy/", "checkout", "clean")]
    assert rows[0]["pin"] == "me/proj/data:v0" and rows[0]["version"] == "me/proj/data:v0"
    (data / "a.txt").write_text("x\n")
    assert cli("status", "--exit-code")[0] == 1
    [row] = cli.json("status", str(data))
    assert row["how"] == "pin" and row["changes"] == [{"path": "a.txt", "problem": "modified"}]
