"""track, status and hooks driven by real git commands in a temporary repository."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)


@pytest.fixture
def gitrepo(tmp_path, monkeypatch):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "PATH": BIN + os.pathsep + os.environ["PATH"]}
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
    artvcs("init", "--entity", "me", "--project", "proj")
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
    artvcs("init", "--entity", "me", "--project", "proj")
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


def test_hooks_path_single_file_pre_push_and_run_record(gitrepo):
    """core.hooksPath is honoured and its hook chained; a tracked file follows git; pre-push says why it pushes nothing."""
    import artvcs as binding

    git("config", "core.hooksPath", ".githooks")
    (gitrepo / ".githooks").mkdir()
    theirs = gitrepo / ".githooks" / "post-checkout"
    theirs.write_text('#!/bin/sh\necho "theirs $3" >> checkout.log\n')
    theirs.chmod(0o755)
    (gitrepo / "model.bin").write_bytes(b"weights-1")
    artvcs("init", "--entity", "me", "--project", "proj")
    got = json.loads(artvcs("track", "model.bin", "--type", "model", "--json").stdout)
    assert set(got) == {"path", "name", "version", "digest", "commit"} and got["path"] == "model.bin"
    ignored = (gitrepo / ".gitignore").read_text().splitlines()
    assert "/model.bin" in ignored and "/.artifacts/" in ignored
    assert artvcs("hooks", "install").stdout.count("installed") == 4
    assert (gitrepo / ".githooks" / "post-checkout.artvcs-orig").exists()
    git("add", "-A")
    assert set(git("diff", "--cached", "--name-only").stdout.split()) == {".gitignore", ".githooks/post-checkout.artvcs-orig",
                                                                          ".githooks/post-checkout", ".githooks/post-merge",
                                                                          ".githooks/pre-commit", ".githooks/pre-push",
                                                                          "artvcs.lock", "artvcs.yaml"}
    git("commit", "-qm", "model v0")
    first = git("rev-parse", "HEAD").stdout.strip()
    (gitrepo / "model.bin").write_bytes(b"weights-2")
    rows = json.loads(artvcs("status", "--json").stdout)
    assert rows == [{"path": "model.bin", "pin": "me/proj/model.bin:v0", "version": "me/proj/model.bin:v0", "how": "pin",
                     "state": "modified", "changes": []}]
    (gitrepo / "README").write_text("edited, not committed\n")
    artvcs("track", "model.bin")
    git("commit", "-qam", "model v1")
    for version, dirty in (("v0", False), ("v1", True)):  # runs record the host commit, branch and dirtiness
        rec = binding.Api().artifact(f"model.bin:{version}").logged_by().git
        assert (rec["branch"], rec["dirty"]) == ("main", dirty) and rec["commit"] == (first if dirty else rec["commit"])
    git("checkout", "-q", first)
    assert (gitrepo / "model.bin").read_bytes() == b"weights-1"
    git("checkout", "-q", "main")
    assert (gitrepo / "model.bin").read_bytes() == b"weights-2"
    assert (gitrepo / "checkout.log").read_text().splitlines() == ["theirs 1", "theirs 1"], "their hook still runs"
    git("init", "-q", "--bare", str(gitrepo.parent / "remote.git"))
    git("remote", "add", "origin", str(gitrepo.parent / "remote.git"))
    p = git("push", "-q", "origin", "main", check=False)
    assert p.returncode == 0 and "pinned versions stay local" in p.stderr and p.stderr.count("artvcs:") == 1
    out = artvcs("hooks", "uninstall").stdout
    assert "original is back" in out and theirs.read_text() == '#!/bin/sh\necho "theirs $3" >> checkout.log\n'
    assert sorted(os.listdir(gitrepo / ".githooks")) == ["post-checkout"]


def test_pre_commit_reads_what_is_committed(gitrepo):
    """The pins checked are the staged ones, also for 'git commit -a' (a temporary index)."""
    (gitrepo / "d").mkdir()
    (gitrepo / "d" / "f").write_text("1")
    artvcs("init", "--entity", "me", "--project", "proj")
    artvcs("track", "d")
    artvcs("hooks", "install")
    git("add", "-A")
    git("commit", "-qm", "pins")
    lock = gitrepo / "artvcs.lock"
    good = lock.read_text()
    lock.write_text(good.replace("digest: ", "digest: 00"))
    p = git("commit", "-qam", "bad digest", check=False)
    assert p.returncode == 1 and "commit refused" in p.stderr and "artvcs track d/" in p.stderr
    lock.write_text(good)
    (gitrepo / "README").write_text("more\n")
    git("commit", "-qam", "fine")
    assert git("log", "-1", "--format=%s").stdout.strip() == "fine"


def test_gc_keeps_what_any_branch_pins(gitrepo):
    data = gitrepo / "data"
    data.mkdir()
    (data / "a").write_text("main's")
    artvcs("init", "--entity", "me", "--project", "proj")
    artvcs("track", "data")
    git("add", "-A")
    git("commit", "-qm", "v0")
    git("checkout", "-qb", "b")
    (data / "a").write_text("b's")
    artvcs("track", "data")
    git("commit", "-qam", "v1")
    (data / "a").write_text("nobody's")
    artvcs("track", "data")  # v2, then pinned back to v1 by restoring the lock
    git("checkout", "-q", "--", "artvcs.lock")
    artvcs("delete", "data:v0")
    artvcs("delete", "data:v2", "--delete-aliases")
    got = json.loads(artvcs("gc", "--grace", "0", "--json").stdout)
    assert got["removed"] == 1 and got["freed_bytes"] == len("nobody's"), "only v2's content: main still pins v0"


def test_pre_push_sends_pins_and_survives_renumbering(gitrepo, tmp_path_factory):
    """git push pushes the pinned versions to the artvcs remote; when another clone took the number first
    the local version is renumbered on top and the committed pin still resolves (by its digest)."""
    store = tmp_path_factory.mktemp("remote-store")
    url = f"file://{store}"
    data = gitrepo / "data"
    data.mkdir()
    (data / "a.txt").write_text("first\n")
    artvcs("init", "--entity", "me", "--project", "proj")
    artvcs("remote", "add", "origin", url)
    artvcs("track", "data", "--name", "ds")
    artvcs("hooks", "install")
    git("add", "-A")
    git("commit", "-qm", "ds v0")
    git("init", "-q", "--bare", str(gitrepo.parent / "host-remote.git"))
    git("remote", "add", "origin", str(gitrepo.parent / "host-remote.git"))
    p = git("push", "-q", "origin", "main", check=False)
    assert p.returncode == 0 and "origin: sent" in p.stderr, p.stderr

    other = tmp_path_factory.mktemp("other") / "clone"
    artvcs("clone", url, str(other))
    assert (other / ".artifacts").is_dir()
    versions = subprocess.run([os.path.join(BIN, "artvcs"), "versions", "ds", "--json"], cwd=other,
                              capture_output=True, text=True, check=True)
    assert [v["version"] for v in json.loads(versions.stdout)] == ["v0"]
    # The other clone logs v1 of ds and pushes it first.
    (other / "new").mkdir()
    (other / "new" / "b.txt").write_text("theirs\n")
    for args in (["log", "new", "--name", "ds", "--type", "dataset"], ["push"]):
        subprocess.run([os.path.join(BIN, "artvcs"), *args], cwd=other, capture_output=True, text=True, check=True)

    (data / "a.txt").write_text("second\n")
    artvcs("track", "data")
    pin = (gitrepo / "artvcs.lock").read_text()
    assert "version: v1" in pin
    git("commit", "-qam", "ds v1 here")
    p = git("push", "-q", "origin", "main", check=False)
    assert p.returncode == 0, p.stderr
    assert "renumbered" in p.stderr and "v1 -> v2" in p.stderr, p.stderr
    rows = json.loads(artvcs("status", "--json").stdout)
    assert [(r["path"], r["state"]) for r in rows] == [("data/", "clean")], rows
    art = json.loads(artvcs("show", "ds:v2", "--json").stdout)
    pinned = [line.split(": ")[1] for line in pin.splitlines() if line.strip().startswith("digest:")]
    assert art["digest"] == pinned[0]
    git("checkout", "-q", "HEAD~1")
    assert (data / "a.txt").read_text() == "first\n"
    git("checkout", "-q", "main")
    assert (data / "a.txt").read_text() == "second\n"


def test_a_refused_checkout_is_put_right_with_one_command(gitrepo):
    """git switches the code, the hook refuses to overwrite unlogged data and names the command that
    puts every tracked path at its pin; status shows the disagreement until then."""
    data = gitrepo / "data"
    data.mkdir()
    (data / "x.csv").write_text("1,2\n")
    artvcs("init", "--entity", "me", "--project", "proj")
    artvcs("track", "data", "--name", "mnist")
    git("add", "artvcs.yaml", "artvcs.lock", ".gitignore")
    git("commit", "-qm", "data v0")
    git("checkout", "-qb", "more")
    (data / "x.csv").write_text("1,2\n3,4\n")
    artvcs("track", "data")
    git("commit", "-qam", "data v1")
    artvcs("hooks", "install")
    git("checkout", "-q", "main")
    assert files(data) == {"x.csv": "1,2\n"}
    (data / "scratch.csv").write_text("unlogged work\n")
    p = git("checkout", "-q", "more", check=False)
    assert "artvcs checkout --force" in p.stderr and "artvcs track data/" in p.stderr, p.stderr
    assert git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "more", "git switched the code"
    assert files(data) == {"x.csv": "1,2\n", "scratch.csv": "unlogged work\n"}, "the hook left the data alone"
    st = artvcs("status", "--exit-code", check=False)
    assert st.returncode == 1 and "me/proj/mnist:v1" in st.stdout and "modified" in st.stdout
    p = artvcs("checkout", check=False)
    assert p.returncode == 1 and "scratch.csv" in p.stderr and files(data)["scratch.csv"] == "unlogged work\n"
    done = json.loads(artvcs("checkout", "--force", "--json").stdout)
    assert done == [{"path": "data/", "version": "me/proj/mnist:v1", "written": 1, "removed": 1, "up_to_date": False}]
    assert files(data) == {"x.csv": "1,2\n3,4\n"}
    assert artvcs("status", "--exit-code").returncode == 0
    assert artvcs("checkout").stdout == "data/ -> me/proj/mnist:v1: up to date\n"


def _refs(prefix: str) -> list[str]:
    out = subprocess.run(["git", "--git-dir", ".artifacts", "for-each-ref", "--format=%(refname)", prefix],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def test_a_failed_track_leaves_no_run_behind(gitrepo):
    """A track refused half-way (its run started, its log failed) changes nothing: no run ref, no
    version, no pin; the next good track makes exactly one run, finished."""
    data = gitrepo / "data"
    data.mkdir()
    (data / "x.csv").write_text("1,2\n")
    artvcs("init", "--entity", "me", "--project", "proj")
    bad = artvcs("track", "data", "--alias", "v3", check=False)
    assert bad.returncode != 0 and "'v3'" in bad.stderr
    assert _refs("refs/runs/") == [] and _refs("refs/versions/") == []
    assert not (gitrepo / "artvcs.lock").exists()
    artvcs("track", "data")
    (run,) = _refs("refs/runs/")
    record = json.loads(subprocess.run(["git", "--git-dir", ".artifacts", "show", f"{run}:run.json"],
                                       capture_output=True, text=True, check=True).stdout)
    assert record["state"] == "finished" and record["job_type"] == "track" and len(record["logged"]) == 1


def test_a_track_that_fails_after_its_version_keeps_its_run_failed(gitrepo):
    """When the version was made before the failure, the run it names stays, finished as failed
    (as W&B keeps a crashed run): the version's facts must not name a run that is gone."""
    data = gitrepo / "data"
    data.mkdir()
    (data / "x.csv").write_text("1,2\n")
    artvcs("init", "--entity", "me", "--project", "proj")
    # the version is committed, then moving the alias fails: its ref path is taken by a file
    aliases = gitrepo / ".artifacts" / "refs" / "aliases" / "me" / "proj" / "data"
    aliases.parent.mkdir(parents=True)
    aliases.write_text("not a folder\n")
    bad = artvcs("track", "data", "--alias", "best", check=False)
    assert bad.returncode != 0
    assert _refs("refs/versions/") == ["refs/versions/me/proj/data/v0"]
    (run,) = _refs("refs/runs/")
    record = json.loads(subprocess.run(["git", "--git-dir", ".artifacts", "show", f"{run}:run.json"],
                                       capture_output=True, text=True, check=True).stdout)
    assert record["state"] == "failed"


def _sums_kept(gitrepo) -> set[str]:
    import sqlite3

    db = sqlite3.connect(gitrepo / ".artifacts" / "cache" / "stat.db")
    try:
        return {r[0] for r in db.execute("SELECT commit_id FROM version_sums")}
    finally:
        db.close()


def test_gc_forgets_the_folder_sums_of_deleted_versions(gitrepo):
    """Each track keeps its version's folder sums in the stat cache; once a version is deleted and
    no pin names it, gc drops its row (a dry run keeps it), and keeps those of live or pinned ones."""
    data = gitrepo / "data"
    data.mkdir()
    (data / "x.csv").write_text("1,2\n")
    artvcs("init", "--entity", "me", "--project", "proj")
    artvcs("track", "data")
    git("add", "artvcs.yaml", "artvcs.lock", ".gitignore")
    git("commit", "-qm", "data v0")  # v0 pinned on main
    v0 = _refs_values("refs/versions/me/proj/data/v0")
    (data / "x.csv").write_text("1,2\n3,4\n")
    artvcs("track", "data")  # v1 pinned in the work tree
    v1 = _refs_values("refs/versions/me/proj/data/v1")
    (data / "x.csv").write_text("5\n")
    artvcs("track", "data")  # v2: the work tree's pin now
    v2 = _refs_values("refs/versions/me/proj/data/v2")
    assert _sums_kept(gitrepo) == {v0, v1, v2}
    artvcs("delete", "me/proj/data:v1")
    artvcs("gc", "--dry-run")
    assert _sums_kept(gitrepo) == {v0, v1, v2}
    artvcs("gc")
    assert _sums_kept(gitrepo) == {v0, v2}  # v0: deleted nowhere, and pinned on main
    assert "clean" in artvcs("status").stdout  # the work tree's version is still told from its sums


def _refs_values(name: str) -> str:
    return subprocess.run(["git", "--git-dir", ".artifacts", "rev-parse", name],
                          capture_output=True, text=True, check=True).stdout.strip()
