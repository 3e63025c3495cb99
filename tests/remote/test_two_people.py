"""Two people, two HOMEs and git identities, two clones in folders with different names, one remote:
they mean the same artifact by the same name (issue 13). Every command is a real ``artvcs`` process."""
from __future__ import annotations

import json
import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)


class Person:
    """Someone at a shell: their own HOME (with a ~/.gitconfig naming them) and current folder."""

    def __init__(self, root, name: str, email: str) -> None:
        self.name, self.email = name, email
        self.home = root / f"home-{email.split('@')[0]}"
        self.home.mkdir()
        (self.home / ".gitconfig").write_text(f"[user]\n\tname = {name}\n\temail = {email}\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ARTVCS_", "GIT_"))}
        self.env.update(HOME=str(self.home), USER=email.split("@")[0], ARTVCS_FSYNC="0")

    def __call__(self, cwd, *args: str) -> str:
        p = subprocess.run([os.path.join(BIN, "artvcs"), *args], cwd=str(cwd), env=self.env, capture_output=True, text=True)
        assert p.returncode == 0, f"{self.name}: artvcs {' '.join(args)}: {p.stderr}"
        return p.stdout

    def json(self, cwd, *args: str):
        return json.loads(self(cwd, *args, "--json"))


def test_two_people_one_remote_same_names(tmp_path, remote_spec):
    url, opts = remote_spec
    extra = ["--endpoint-url", opts["endpoint_url"]] if opts else []
    alice = Person(tmp_path, "Alice Liddell", "alice@example.org")
    bob = Person(tmp_path, "Bob Smith", "bob@example.org")

    proj = tmp_path / "alice" / "proj"
    (proj / "data").mkdir(parents=True)
    (proj / "data" / "train.csv").write_text("x,y\n1,2\n")
    out = alice(proj, "init")
    assert "default namespace: alice-liddell/proj" in out  # derived once, at init, and said
    alice(proj, "log", "data", "--name", "ds", "--type", "dataset")
    alice(proj, "remote", "add", *extra, "origin", url)
    alice(proj, "push")

    (tmp_path / "bob").mkdir()
    bob(tmp_path / "bob", "clone", *extra, url, "work")  # another folder name, another person
    work = tmp_path / "bob" / "work"
    assert bob.json(work, "ls") == alice.json(proj, "ls")
    assert [(r["entity"], r["project"], r["name"]) for r in bob.json(work, "ls")] == [("alice-liddell", "proj", "ds")]
    bob(work, "checkout", "ds:v0", "data")
    assert (work / "data" / "train.csv").read_bytes() == (proj / "data" / "train.csv").read_bytes()

    (work / "data" / "train.csv").write_text("x,y\n1,2\n3,4\n")
    made = bob.json(work, "log", "data", "--name", "ds", "--type", "dataset")
    assert (made["qualified_name"], made["version"]) == ("alice-liddell/proj/ds:v1", "v1")  # not a second collection
    bob(work, "push")
    alice(proj, "pull")

    for who, where in ((alice, proj), (bob, work)):
        versions = who.json(where, "versions", "ds")
        assert [v["version"] for v in versions] == ["v0", "v1"]
        assert [v["author"] for v in versions] == [{"name": "Alice Liddell", "email": "alice@example.org"},
                                                   {"name": "Bob Smith", "email": "bob@example.org"}]
        assert [r["name"] for r in who.json(where, "ls")] == ["ds"]
    assert alice.json(proj, "show", "ds:latest")["commit"] == bob.json(work, "show", "ds:latest")["commit"] == made["commit"]
    assert "Bob Smith" in alice(proj, "show", "ds:v1")
    assert alice.json(proj, "history", "ds:v1")[0]["author"] == "Bob Smith"
    alice(proj, "checkout", "ds:latest", "data")
    assert (proj / "data" / "train.csv").read_text() == "x,y\n1,2\n3,4\n"


def test_clone_can_choose_another_default_namespace(tmp_path, remote_spec):
    url, opts = remote_spec
    extra = ["--endpoint-url", opts["endpoint_url"]] if opts else []
    alice = Person(tmp_path, "Alice Liddell", "alice@example.org")
    proj = tmp_path / "proj"
    (proj / "data").mkdir(parents=True)
    (proj / "data" / "a").write_text("a\n")
    alice(proj, "init", "--entity", "team", "--project", "digits")
    alice(proj, "log", "data", "--name", "ds", "--type", "dataset")
    alice(proj, "remote", "add", *extra, "origin", url)
    alice(proj, "push")
    alice(tmp_path, "clone", *extra, url, "mine", "--project", "scratch")
    assert alice(tmp_path / "mine", "config", "get", "project").strip() == "scratch"
    assert alice(tmp_path / "mine", "config", "get", "entity").strip() == "team"
    # ds is not in team/scratch but in exactly one other project: the short name still finds it
    assert alice.json(tmp_path / "mine", "show", "ds:v0")["qualified_name"] == "team/digits/ds:v0"
    alice(tmp_path, "clone", *extra, url, "again", "--only", "ds")
    assert alice(tmp_path / "again", "config", "get", "project").strip() == "digits"
