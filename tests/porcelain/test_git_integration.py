"""track, status and hooks driven by real git commands in a temporary repository."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)


@pytest.fixture
def gitrepo(tmp_path, monkeypatch):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "ARTVCS_ENTITY": "me", "ARTVCS_PROJECT": "proj", "PATH": BIN + os.pathsep + os.environ["PATH"]}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("ARTVCS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    git("init", "-q", "-b", "main")
    (tmp_path / "README").write_text("r\n")
    git("add", "README")
    git("commit", "-qm", "init")
    return tmp_path


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=check)


def artvcs(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([os.path.join(BIN, "artvcs"), *args], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def files(root) -> dict[str, str]:
    return {os.path.relpath(os.path.join(r, f), root): open(os.path.join(r, f)).read() for r, _, fs in os.walk(root) for f in fs}


def test_workspace_follows_git_branches(gitrepo):
    data = gitrepo / "data"
    data.mkdir()
    (data / "x.csv").write_text("1,2\n")
    artvcs("init")
    artvcs("track", "data", "--name", "mnist")
    lock = (gitrepo / "artvcs.lock").read_text()
    assert lock.startswith("# artvcs lock file") and "data/:" in lock and "version: v0" in lock
    assert "/data/" in (gitrepo / ".gitignore").read_text().splitlines()
    git("add", "artvcs.yaml", "artvcs.lock", ".gitignore")
    git("commit", "-qm", "data v0")
    assert "clean" in artvcs("status").stdout
    git("checkout", "-qb", "more")
    (data / "y.csv").write_text("3,4\n")
    (data / "x.csv").write_text("1,2\n5,6\n")
    st = artvcs("status", "--json").stdout
    assert '"state": "modified"' in st
    artvcs("track", "data")
    git("commit", "-qam", "data v1")
    artvcs("hooks", "install")
    v1 = files(data)
    git("checkout", "-q", "main")
    assert files(data) == {"x.csv": "1,2\n"}, "post-checkout brought back main's pin"
    git("checkout", "-q", "more")
    assert files(data) == v1
    git("checkout", "-q", "main")
    git("merge", "-q", "--no-edit", "more")
    assert files(data) == v1, "post-merge follows the merged pin"


def test_pre_commit_refuses_unresolvable_pins_and_hooks_chain(gitrepo):
    hooks = gitrepo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    mine = hooks / "pre-commit"
    mine.write_text("#!/bin/sh\necho mine-ran >> hook.log\n")
    mine.chmod(0o755)
    (gitrepo / "data").mkdir()
    (gitrepo / "data" / "a.txt").write_text("a\n")
    artvcs("init")
    artvcs("track", "data")
    artvcs("hooks", "install")
    assert (hooks / "pre-commit.artvcs-orig").exists()
    git("add", "artvcs.yaml", "artvcs.lock", ".gitignore")
    git("commit", "-qm", "pins")
    assert (gitrepo / "hook.log").read_text() == "mine-ran\n", "the existing hook still runs"
    lock = gitrepo / "artvcs.lock"
    lock.write_text(lock.read_text().replace("version: v0", "version: v7"))
    before = files(gitrepo / "data")
    git("add", "artvcs.lock")
    p = git("commit", "-qm", "bad pin", check=False)
    assert p.returncode != 0 and "does not resolve" in p.stderr and "v7" in p.stderr
    assert files(gitrepo / "data") == before
    assert git("log", "--format=%s").stdout.splitlines()[0] == "pins"
    artvcs("hooks", "uninstall")
    assert mine.read_text() == "#!/bin/sh\necho mine-ran >> hook.log\n"
    assert not (hooks / "pre-commit.artvcs-orig").exists()
