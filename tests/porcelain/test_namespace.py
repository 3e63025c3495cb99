"""One namespace per repository (issue 13): recorded at init, never drifting, changed only on purpose with
history, and resolved the same way by the CLI and Python. Real ``artvcs`` and ``python`` processes, each
person with their own HOME and git identity."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pygit2

BIN = os.path.dirname(sys.executable)


def person(tmp_path, name: str, email: str) -> dict[str, str]:
    """The environment of someone at a shell: a HOME whose ~/.gitconfig names them, no artvcs variables."""
    home = tmp_path / f"home-{email.split('@')[0]}"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text(f"[user]\n\tname = {name}\n\temail = {email}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARTVCS_", "GIT_"))}
    env.update(HOME=str(home), ARTVCS_FSYNC="0")
    return env


def sh(env, cwd, *args: str, code: int = 0) -> subprocess.CompletedProcess:
    p = subprocess.run([os.path.join(BIN, "artvcs"), *args], cwd=str(cwd), env=env, capture_output=True, text=True)
    assert p.returncode == code, f"artvcs {' '.join(args)}: {p.stderr}"
    return p


def test_init_records_the_namespace_once_and_it_never_drifts(tmp_path):
    carol = person(tmp_path, "Carol Jones", "carol@example.org")
    dave = person(tmp_path, "Dave", "dave@example.org")
    lab = tmp_path / "lab"
    (lab / "data").mkdir(parents=True)
    (lab / "data" / "f").write_text("1\n")
    assert "default namespace: carol-jones/lab" in sh(carol, lab, "init").stdout
    moved = tmp_path / "renamed"
    lab.rename(moved)
    # another folder name, another person: the same default
    assert sh(dave, moved, "config", "get", "project").stdout == "lab\n"
    assert sh(dave, moved, "config", "get", "entity").stdout == "carol-jones\n"
    made = json.loads(sh(dave, moved, "log", "data", "--name", "ds", "--type", "dataset", "--json").stdout)
    assert made["qualified_name"] == "carol-jones/lab/ds:v0"
    assert made["author"] == {"name": "Dave", "email": "dave@example.org"}
    assert "Dave <dave@example.org>" in sh(carol, moved, "show", "ds:v0").stdout
    versions = sh(carol, moved, "versions", "ds").stdout
    assert "Dave" in versions.splitlines()[1]
    sh(carol, moved, "alias", "add", "ds:v0", "prod")
    moves = [e for e in json.loads(sh(dave, moved, "history", "ds:v0", "--json").stdout) if e["kind"] == "alias"]
    assert moves and moves[-1]["author"] == "Carol Jones" and moves[-1]["email"] == "carol@example.org"
    logged = json.loads(sh(dave, moved, "show", "ds:v0", "--json").stdout)["logged_by"]
    probe = f"import artvcs; r = artvcs.Api().artifact('ds:v0').logged_by(); print(r.user.name, r.user.email)"
    p = subprocess.run([sys.executable, "-c", probe], cwd=str(moved), env=dave, capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout == "Dave dave@example.org\n" and logged.startswith("carol-jones/lab/")


def test_the_default_changes_only_on_purpose_with_history(cli, data, monkeypatch):
    monkeypatch.setenv("ARTVCS_AUTHOR_NAME", "Erin")
    monkeypatch.setenv("ARTVCS_AUTHOR_EMAIL", "erin@example.org")
    assert cli("config", "set", "project", "other")[0] == 0
    assert cli("config", "get", "project")[1] == "other\n"
    assert cli("init", "--project", "third")[0] == 0
    assert cli.json("config", "list")["project"] == "third"
    events = cli.json("config", "history")
    assert [(e["entity"], e["project"], e["message"].split(":")[0]) for e in events] == [
        ("me", "proj", "init"), ("me", "other", "set"), ("me", "third", "set")]
    assert events[-1]["author"] == "Erin" and events[-1]["email"] == "erin@example.org"
    code, _, err = cli("config", "set", "project", "no/slash")
    assert code == 1 and "'no/slash'" in err and cli("config", "get", "project")[1] == "third\n"
    code, _, err = cli("config", "set", "colour", "blue")
    assert code == 1 and "'colour'" in err
    assert cli("config", "set", "projects.third.ttl", "3600")[0] == 0 and cli.json("config", "get", "projects.third.ttl")["value"] == 3600
    # $ARTVCS_PROJECT overrides for one command and records nothing
    monkeypatch.setenv("ARTVCS_PROJECT", "once")
    assert cli.json("log", str(data), "--name", "ds", "--type", "dataset")["qualified_name"] == "me/once/ds:v0"
    monkeypatch.delenv("ARTVCS_PROJECT")
    assert cli("config", "get", "project")[1] == "third\n"
    assert [(r["project"], r["name"]) for r in cli.json("ls")] == [("once", "ds")]
    assert cli.json("show", "ds:v0")["qualified_name"] == "me/once/ds:v0"  # the only project holding ds


def test_a_script_with_a_project_logs_where_ls_and_show_look(repo_dir, run_cli):
    (repo_dir / "f.txt").write_text("python\n")
    (repo_dir / "script.py").write_text(textwrap.dedent("""
        import artvcs
        run = artvcs.init(project="example")
        a = artvcs.Artifact("pyds", type="dataset")
        a.add_file("f.txt")
        run.log_artifact(a)
        run.finish()
    """))
    p = subprocess.run([sys.executable, "script.py"], cwd=str(repo_dir), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert run_cli("log", "f.txt", "--name", "here", "--type", "dataset").code == 0
    listed = run_cli("ls")
    assert listed.code == 0 and listed.out.index("here") < listed.out.index("in project me/example:") < listed.out.index("pyds")
    shown = run_cli("show", "pyds:v0", "--json")
    assert shown.code == 0 and json.loads(shown.out)["qualified_name"] == "me/example/pyds:v0"
    assert run_cli("checkout", "pyds:v0", "out").code == 0 and (repo_dir / "out" / "f.txt").read_text() == "python\n"
    import artvcs

    assert artvcs.Api().artifact("pyds:v0").qualified_name == "me/example/pyds:v0"
    assert artvcs.Api().artifact("example/pyds:latest").digest == json.loads(shown.out)["digest"]


def test_a_short_name_in_several_other_projects_is_an_error_naming_them(cli, data, monkeypatch):
    for project in ("a", "b"):
        monkeypatch.setenv("ARTVCS_PROJECT", project)
        assert cli("log", str(data), "--name", "x", "--type", "dataset")[0] == 0
    monkeypatch.delenv("ARTVCS_PROJECT")
    code, _, err = cli("show", "x:v0")
    assert code == 1 and "ambiguous" in err and "me/a/x" in err and "me/b/x" in err
    import artvcs
    from artvcs.errors import UsageError

    try:
        artvcs.Api().artifact("x:v0")
        raise AssertionError("Api resolved an ambiguous name")
    except UsageError as e:
        assert "me/a/x" in str(e) and "me/b/x" in str(e)
    assert cli.json("show", "a/x:v0")["qualified_name"] == "me/a/x:v0"
    assert cli("log", str(data), "--name", "x", "--type", "dataset")[0] == 0  # now in the default project: it wins
    assert cli.json("show", "x:v0")["qualified_name"] == "me/proj/x:v0"


def test_a_repository_of_the_previous_release_is_pinned_once_and_loses_nothing(tmp_path):
    """Build what the previous release left: versions in the namespace its derivation gave (git user.name
    "Old User" → old-user, folder "work"), no recorded namespace, git's user.name=artvcs in .artifacts/config."""
    old = person(tmp_path, "Old User", "old@example.org")
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    (work / "data" / "a.csv").write_text("1\n")
    sh(old, work, "init", "--entity", "old-user", "--project", "work")
    sh(old, work, "log", "data", "--name", "ds", "--type", "dataset")
    (work / "data" / "a.csv").write_text("2\n")
    sh(old, work, "log", "data", "--name", "ds", "--type", "dataset", "--alias", "best")
    git = pygit2.Repository(str(work / ".artifacts"))
    git.references.delete("refs/namespace")
    shutil.rmtree(work / ".artifacts" / "logs" / "refs" / "namespace", ignore_errors=True)
    if os.path.exists(work / ".artifacts" / "logs" / "refs" / "namespace"):
        os.unlink(work / ".artifacts" / "logs" / "refs" / "namespace")
    git.config["user.name"], git.config["user.email"] = "artvcs", "artvcs@localhost"
    before = {n: str(git.references[n].target) for n in git.references if n.startswith("refs/")}

    first = sh(old, work, "ls")
    assert "ds" in first.stdout and first.stderr.count("recorded as old-user/work") == 1
    again = sh(old, work, "ls")
    assert again.stderr == ""  # said once
    moved = tmp_path / "elsewhere"
    work.rename(moved)
    other = person(tmp_path, "New Person", "new@example.org")
    assert sh(other, moved, "config", "get", "project").stdout == "work\n"
    assert [v["version"] for v in json.loads(sh(other, moved, "versions", "ds", "--json").stdout)] == ["v0", "v1"]
    sh(other, moved, "checkout", "ds:best", "out")
    assert (moved / "out" / "a.csv").read_text() == "2\n"
    git = pygit2.Repository(str(moved / ".artifacts"))
    after = {n: str(git.references[n].target) for n in git.references if n.startswith("refs/")}
    assert {n: o for n, o in after.items() if n != "refs/namespace"} == before
    assert sh(other, moved, "fsck").returncode == 0
