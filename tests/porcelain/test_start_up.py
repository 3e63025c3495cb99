"""The start-up of the ``artvcs`` console script: what an up-to-date status imports, the installed
script (plain and editable installs) answering as the click command does, and the editable
install's finder (setup.py's LeanFinder) importing nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from artvcs.porcelain.text import terminal_columns

# the click command with the quick path taken away: what the full status prints
FULL = ("import sys\nfrom artvcs.git import status\nstatus.quick = lambda paths: None\n"
        "from artvcs.porcelain.cli import main\nsys.exit(main(sys.argv[1:]))")
# what an up-to-date status must not load: each costs its start-up more than it needs
HEAVY = ("click", "pygit2", "yaml", "typing", "shutil", "dataclasses", "pathlib", "inspect")


@pytest.fixture
def up_to_date(cli, data, repo_dir):
    """data/ tracked in a git work tree, its files older than the stat cache's racy margin."""
    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    time.sleep(0.05)
    assert cli("track", str(data))[0] == 0
    return repo_dir


def _editable(prefix) -> bool:
    return any((prefix / "lib").glob("*/site-packages/__editable__*.pth"))


def _run(cmd: list[str], cwd, env=None) -> tuple[int, str, str]:
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("args", [["status"], ["status", "--json"]])
def test_an_up_to_date_status_imports_nothing_heavy(up_to_date, args):
    code = ("import json, sys\nfrom artvcs.porcelain.launch import main\ncode = main(sys.argv[1:])\n"
            f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]), file=sys.stderr)")
    for _ in range(2):  # the second: the lock files' YAML is parsed and kept by the first
        p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=up_to_date)
    assert json.loads(p.stderr.splitlines()[-1]) == [0, []], p.stderr
    assert p.stdout == _run([sys.executable, "-c", FULL, *args], up_to_date)[1]


def test_the_version_is_said_without_loading_click(tmp_path):
    """``artvcs --version`` prints click's version line from the launcher, importing nothing heavy;
    with anything more the click command answers (and says what is wrong)."""
    code = ("import json, sys\nfrom artvcs.porcelain.launch import main\ncode = main(sys.argv[1:])\n"
            f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]), file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert json.loads(p.stderr.splitlines()[-1]) == [0, []], p.stderr
    assert p.stdout == _run([sys.executable, "-c", FULL, "--version"], tmp_path)[1] == "artvcs, version 0.1.0\n"
    p = subprocess.run([sys.executable, "-c", code, "--version", "--bogus"], capture_output=True, text=True, cwd=tmp_path)
    assert json.loads(p.stderr.splitlines()[-1])[0] == 2 and "--bogus" in p.stderr, p.stderr


@pytest.mark.parametrize("columns", [None, "80", "33", "0", "-5", "wide", ""])
def test_terminal_columns_are_shutils(columns):
    """The table's width comes from the same place shutil.get_terminal_size takes it (without shutil)."""
    code = ("import shutil\nfrom artvcs.porcelain.text import terminal_columns\n"
            "print(terminal_columns(120), shutil.get_terminal_size((120, 24)).columns)")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    mine, theirs = out.split()
    assert mine == theirs and int(mine) == (int(columns) if columns and columns.lstrip("-").isdigit()
                                            and int(columns) > 0 else 120)
    assert terminal_columns(7) > 0


def test_the_installed_script_answers_as_the_click_command(installed, up_to_date, tmp_path):
    """The console script pip wrote (plain or editable install) prints an up-to-date status, a changed
    one and the help exactly as the click command of the same install does."""
    prefix, src, env = installed
    artvcs, python = str(prefix / "bin" / "artvcs"), str(prefix / "bin" / "python")
    where = _run([python, "-c", "import artvcs.porcelain.launch as m; print(m.__file__)"], up_to_date, env)[1]
    assert where.startswith(str(src) if _editable(prefix) else str(prefix))  # this install's, not the tests'
    for args in (["status"], ["status", "--json", "--exit-code"], ["--help"], ["status", "--help"], ["--version"]):
        shown = _run([artvcs, *args], up_to_date, env)
        assert shown == _run([python, "-c", FULL, *args], up_to_date, env) and shown[0] == 0, shown
    (up_to_date / "data" / "a.txt").write_text("changed\n")
    shown = _run([artvcs, "status", "--exit-code"], up_to_date, env)
    assert shown == _run([python, "-c", FULL, "status", "--exit-code"], up_to_date, env) and shown[0] == 1
    assert "modified" in shown[1]


def test_the_editable_finder_imports_nothing(installed, tmp_path):
    """setup.py's LeanFinder: an editable install's packages are found in the source folders with
    nothing imported at start-up beyond what a bare interpreter loads; a plain install has no finder."""
    prefix, src, env = installed
    python = str(prefix / "bin" / "python")
    editable = _editable(prefix)
    code = ("import sys\nbare = set(sys.modules)\nimport artvcs.plumbing, artvcs.porcelain\n"
            "print(sorted(m for m in ('pathlib', 're', 'importlib.util', 'urllib.parse', 'typing') if m in bare))\n"
            "print(artvcs.__file__, artvcs.plumbing.__file__, artvcs.porcelain.__file__)")
    loaded, files = _run([python, "-c", code], tmp_path, env)[1].splitlines()
    assert loaded == "[]"
    top = src if editable else next((prefix / "lib").glob("*/site-packages"))
    assert files.split() == [str(top / "artvcs" / "__init__.py"),
                             str(top / ("plumbing" if editable else "artvcs/plumbing") / "__init__.py"),
                             str(top / ("porcelain" if editable else "artvcs/porcelain") / "__init__.py")]
    if editable:
        (finder,) = (prefix / "lib").glob("*/site-packages/__editable___artvcs_*_finder.py")
        assert "import sys\n" in finder.read_text() and "pathlib" not in finder.read_text()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["status"], ["status", "--json"], ["--version"]])
def test_an_output_that_cannot_be_written_is_said_as_the_click_command_says_it(up_to_date, args):
    """This environment's console script (the launcher answers, then ends its process at once) and
    the click command, both writing to a full device: the same one error line and exit code."""
    exe = os.path.join(os.path.dirname(sys.executable), "artvcs")
    shown = []
    for cmd in ([exe, *args], [sys.executable, "-c", FULL, *args]):
        with open("/dev/full", "w") as full:
            p = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True, cwd=up_to_date)
        shown.append((p.returncode, p.stderr))
    assert shown[0] == shown[1] == (1, "artvcs: error: No space left on device\n")


# The console script's own start, with an exit hook that says when the interpreter's teardown ran and,
# with LEFT_WRITING set, a thread the command leaves running when it returns (still to write a file).
CONSOLE = ("import atexit, os, sys, threading, time\n"
           "atexit.register(lambda: print('teardown ran', file=sys.stderr))\n"
           "if 'LEFT_WRITING' in os.environ:\n"
           "    import artvcs.porcelain.cli as cli\n"
           "    command = cli.main\n"
           "    def main(argv):\n"
           "        code = command(argv)\n"
           "        threading.Thread(target=lambda: (time.sleep(0.3), open('left.txt', 'w').write('written'))).start()\n"
           "        return code\n"
           "    cli.main = main\n"
           "if 'PROFILED' in os.environ:\n"
           "    sys.setprofile(lambda *a: None)\n"
           "sys.argv[0] = 'artvcs'\nfrom artvcs.porcelain.launch import console_main\nconsole_main()")


def _console(cwd, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CONSOLE, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **env})


@pytest.mark.parametrize("command", [["track", "data"], ["log", "--name", "data", "data"]])
def test_a_relog_ends_its_process_at_once_with_everything_on_disk(cli, data, repo_dir, command):
    """A re-log that succeeded skips the interpreter's teardown (ENDS_AT_ONCE), and the next process
    finds all it wrote: its output through a pipe, the version and its pin, the stat cache's record of
    a new file, no draft record left (gc would keep its content), and its run finished."""
    import blake3

    from artvcs.plumbing import runs
    from artvcs.plumbing.repository import discover

    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    assert cli(*command, "--type", "dataset")[0] == 0 if command[0] == "log" else cli(*command)[0] == 0
    (data / "a.txt").write_text("alpha, edited\n")
    (data / "sub" / "new.bin").write_bytes(b"new file\n" * 100)
    time.sleep(1.1)  # older than the stat cache's racy margin, so that its record is kept
    p = _console(repo_dir, *command)
    assert (p.returncode, "teardown ran" in p.stderr) == (0, False), p.stderr
    assert p.stdout.endswith("\n") and "data:v1" in p.stdout and len(p.stdout.splitlines()) == 1, p.stdout
    repo = discover()
    try:
        from artvcs.plumbing.statcache import StatCache

        new = str(data / "sub" / "new.bin")
        assert StatCache.lookup(repo.statcache.load_prefix(str(data)), new, os.stat(new)) == \
            blake3.blake3((data / "sub" / "new.bin").read_bytes()).hexdigest()
        assert not os.listdir(os.path.join(repo.gitdir, "drafts"))
        states = [runs.state_of(r) for r in runs.iter_runs(repo.git)]
        assert states and set(states) == {"finished"}, states
    finally:
        repo.close()
    import artvcs

    art = artvcs.Api().artifact("data:latest")
    assert art.version == "v1" and "sub/new.bin" in art.manifest.entries
    if command[0] == "track":
        assert "version: v1" in (repo_dir / "artvcs.lock").read_text()


def test_a_checkout_ends_its_process_at_once_with_everything_on_disk(cli, data, repo_dir):
    """A checkout that succeeded skips the interpreter's teardown (ENDS_AT_ONCE), and the next process
    finds all it wrote: the files, their stat-cache records (the next status and checkout are a stat
    each), the workspace record that names the version, and its output through a pipe; a failed one
    (a version that does not exist) goes through the teardown and changes nothing."""
    import shutil

    import blake3

    from artvcs.plumbing.repository import discover
    from artvcs.plumbing.statcache import StatCache

    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    assert cli("log", "--name", "data", "--type", "dataset", str(data))[0] == 0
    files = {p: (data / p).read_bytes() for p in ("a.txt", "sub/b.txt")}
    shutil.rmtree(data)
    p = _console(repo_dir, "checkout", "--link", "copy", "data:latest", "data")
    assert (p.returncode, "teardown ran" in p.stderr) == (0, False), p.stderr
    assert p.stdout.endswith("\n") and "2 written" in p.stdout and len(p.stdout.splitlines()) == 1, p.stdout
    assert {q: (data / q).read_bytes() for q in files} == files
    repo = discover()
    try:
        records = repo.statcache.load_prefix(str(data))
        for q, content in files.items():
            path = str(data / q)
            assert records[path][1] == blake3.blake3(content).hexdigest(), "the copy's record is there"
        assert os.listdir(os.path.join(repo.gitdir, "workspaces")), "the workspace record names the version"
    finally:
        repo.close()
    status = _console(repo_dir, "status", "--json", "data")
    assert status.returncode == 0 and "data" in status.stdout, status.stderr
    p = _console(repo_dir, "checkout", "--link", "copy", "nothing:latest", "data")
    assert p.returncode != 0 and "teardown ran" in p.stderr
    assert {q: (data / q).read_bytes() for q in files} == files


def test_a_relog_that_failed_or_left_a_thread_running_ends_as_python_ends(cli, data, repo_dir):
    """Only a success with nothing left running ends at once: a failed re-log, and one whose process
    still has a thread writing or a profiler set, go through the interpreter's teardown (the thread's
    file is written)."""
    p = _console(repo_dir, "log", "--name", "data", "missing-folder")
    assert p.returncode == 2 and "teardown ran" in p.stderr
    p = _console(repo_dir, "log", "--name", "data", "--type", "dataset", "data", LEFT_WRITING="1")
    assert p.returncode == 0 and "teardown ran" in p.stderr, p.stderr
    assert (repo_dir / "left.txt").read_text() == "written"
    # under a profiler (python -m cProfile -o ..., coverage) the exit writes what it gathered
    (data / "a.txt").write_text("edited again\n")
    p = _console(repo_dir, "log", "--name", "data", "--type", "dataset", "data", PROFILED="1")
    assert p.returncode == 0 and "teardown ran" in p.stderr, p.stderr


def test_a_checkout_into_a_new_folder_ends_at_once_and_the_next_checkout_writes_nothing(cli, data, repo_dir):
    """A checkout that succeeded skips the interpreter's teardown (ENDS_AT_ONCE), and the next process
    finds all it wrote: its output through a pipe, every file whole, the folder's workspace record, and
    the folder known to hold the version (a second checkout writes nothing)."""
    from artvcs.plumbing.repository import discover
    from artvcs.plumbing.workspaces import lookup

    assert cli("log", "--name", "data", "--type", "dataset", "data")[0] == 0
    p = _console(repo_dir, "checkout", "--link", "copy", "data:latest", "out")
    assert (p.returncode, "teardown ran" in p.stderr) == (0, False), p.stderr
    assert p.stdout.endswith("\n") and len(p.stdout.splitlines()) == 1 and " written" in p.stdout, p.stdout
    files = sorted(os.path.relpath(os.path.join(r, f), data) for r, _, fs in os.walk(data) for f in fs)
    assert files and files == sorted(os.path.relpath(os.path.join(r, f), repo_dir / "out")
                                     for r, _, fs in os.walk(repo_dir / "out") for f in fs)
    assert all((data / f).read_bytes() == (repo_dir / "out" / f).read_bytes() for f in files)
    repo = discover()
    try:
        recorded = lookup(repo.gitdir, str(repo_dir / "out"))
        assert recorded is not None and recorded.version == "v0" and recorded.how == "checkout"
    finally:
        repo.close()
    p = _console(repo_dir, "checkout", "--json", "data:latest", "out")
    assert p.returncode == 0 and json.loads(p.stdout)["written"] == 0, p.stdout + p.stderr


def test_a_checkout_that_failed_ends_as_python_ends(cli, data, repo_dir):
    """A checkout that refused (an unknown version) goes through the interpreter's teardown."""
    assert cli("log", "--name", "data", "--type", "dataset", "data")[0] == 0
    p = _console(repo_dir, "checkout", "data:v7", "out")
    assert p.returncode != 0 and "teardown ran" in p.stderr and not (repo_dir / "out").exists(), p.stderr


def test_commands_that_parse_no_typed_value_import_no_yaml(cli, data, repo_dir):
    """yaml (~10 ms of a start) is imported by the porcelain only to read a value or file typed by the
    user: a checkout, a listing and the help load it not (no settings file exists here)."""
    assert cli("log", "--name", "data", "--type", "dataset", "data")[0] == 0
    code = ("import json, sys\nfrom artvcs.porcelain.launch import main\ncode = main(sys.argv[1:])\n"
            "print(json.dumps([code, 'yaml' in sys.modules]), file=sys.stderr)")
    for args in (["checkout", "--link", "copy", "data:latest", "out"], ["ls"], ["--help"], ["meta", "--help"]):
        p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=repo_dir)
        assert json.loads(p.stderr.splitlines()[-1]) == [0, False], (args, p.stderr)
    # a typed value is still read as YAML: 3 is a number, yes stays text, a date stays text
    assert cli("meta", "set", "data:latest", "n", "3")[0] == 0
    assert cli("meta", "set", "data:latest", "ok", "yes")[0] == 0
    assert cli("meta", "set", "data:latest", "day", "2024-01-01")[0] == 0
    import artvcs

    assert artvcs.Api().artifact("data:latest").metadata == {"n": 3, "ok": "yes", "day": "2024-01-01"}


def test_a_command_is_imported_with_the_collector_paused():
    """Importing a command's module (tens of thousands of long-lived objects) runs no garbage
    collection, and the collector runs again afterwards, as it was."""
    code = ("import gc, sys\nimport click\nfrom artvcs.porcelain.cli import cli\n"
            "runs = []\ngc.callbacks.append(lambda phase, info: phase == 'start' and runs.append(info['generation']))\n"
            "fresh = 'artvcs.git.tracking' not in sys.modules\n"
            "cmd = cli.get_command(click.Context(cli), 'track')\n"
            "print(fresh, cmd.name, 'artvcs.git.tracking' in sys.modules, len(runs), gc.isenabled())\n"
            "gc.disable()\ncli.get_command(click.Context(cli), 'log')\nprint(gc.isenabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "track", "True", "0", "True", "False"], out


def test_the_console_scripts_process_freezes_what_a_command_import_made(cli, data, repo_dir):
    """In the console script's own process a command's import ends with gc.freeze (the command's
    collections then skip the long-lived import objects); an in-process caller's objects stay in
    the collector's sight."""
    assert cli("log", "--name", "data", "--type", "dataset", "data")[0] == 0
    code = ("import gc, sys\nfrom artvcs.porcelain.launch import main\n"
            "code = main(['ls'], own_process=sys.argv[1] == 'own')\n"
            "print(code, gc.get_freeze_count() > 0, gc.isenabled(), file=sys.stderr)")
    for how, frozen in (("own", "True"), ("caller", "False")):
        p = subprocess.run([sys.executable, "-c", code, how], capture_output=True, text=True, cwd=repo_dir)
        assert p.stderr.split()[-3:] == ["0", frozen, "True"], (how, p.stderr)


def _imported(cwd, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """This environment's console script run as a user runs it (``artvcs ARGS``), under ``python -X
    importtime``: its result and every module its process imported."""
    exe = os.path.join(os.path.dirname(sys.executable), "artvcs")
    p = subprocess.run([sys.executable, "-X", "importtime", exe, *args], capture_output=True, text=True, cwd=cwd)
    modules = {line.rpartition("|")[2].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    return p, modules


# what a re-log, the status after it and a checkout no longer load: the YAML parser (the lock file is
# written by plainyaml, its parse kept), strptime's module (records.time_of), the login name's getpass
# (git names the author here), tempfile (only a stream put)
NOT_FOR_A_RELOG = ("yaml", "_strptime", "getpass", "tempfile")


def test_a_relog_the_status_after_it_and_a_checkout_load_no_yaml(cli, data, repo_dir):
    """The console script's re-log of an edited folder (``artvcs track``) parses and writes the lock
    file without PyYAML, and the status after it (the quick path) and a checkout of the version read
    it without PyYAML too: each is checked on the modules its real process imported, and on what it did."""
    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    subprocess.run(["git", "config", "user.name", "Ann"], check=True, cwd=repo_dir)
    subprocess.run(["git", "config", "user.email", "ann@example.com"], check=True, cwd=repo_dir)
    assert cli("track", "data")[0] == 0
    (data / "a.txt").write_text("alpha, edited\n")
    time.sleep(1.1)  # older than the stat cache's racy margin: the status after the re-log is quick
    p, modules = _imported(repo_dir, "track", "data")
    assert p.returncode == 0 and "data:v1" in p.stdout, p.stderr
    assert {"pygit2", "click"} <= modules and not modules & set(NOT_FOR_A_RELOG), sorted(modules & set(NOT_FOR_A_RELOG))
    import yaml

    lock = yaml.safe_load((repo_dir / "artvcs.lock").read_text())
    assert lock["pins"]["data/"]["version"] == "v1" and yaml.safe_load((repo_dir / "artvcs.yaml").read_text()) == \
        {"tracked": {"data/": {"name": "data", "type": "dataset"}}}
    p, modules = _imported(repo_dir, "status")
    assert p.returncode == 0 and p.stdout == _run([sys.executable, "-c", FULL, "status"], repo_dir)[1], p.stderr
    assert "clean" in p.stdout and not modules & {"yaml", "click", "pygit2"}, sorted(modules & {"yaml", "click", "pygit2"})
    p, modules = _imported(repo_dir, "checkout", "--link", "copy", "data:latest", "out")
    assert p.returncode == 0 and "written" in p.stdout, p.stderr
    assert (repo_dir / "out" / "a.txt").read_text() == "alpha, edited\n"
    assert not modules & set(NOT_FOR_A_RELOG), sorted(modules & set(NOT_FOR_A_RELOG))
