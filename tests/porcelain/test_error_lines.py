"""What a new user sees when a command is misused: one stderr line naming the value and where the
usage is, never click's three-line block or Python's warning with its file, line and source."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

EXE = os.path.join(os.path.dirname(sys.executable), "artvcs")


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("args,words", [
    (("log", "nonexist/", "--name", "x", "--type", "dataset"), "Path 'nonexist/' does not exist. (see 'artvcs log --help')"),
    (("log", "."), "Missing option '--name'. (see 'artvcs log --help')"),
    (("log", ".", "--name", "x", "--bogus"), "No such option '--bogus'"),
    (("frob",), "No such command 'frob'. (see 'artvcs --help')"),
    (("alias", "frob"), "No such command 'frob'. (see 'artvcs alias --help')"),
    (("show",), "Missing argument 'REF'. (see 'artvcs show --help')"),
    (("ui", "--port", "99999"), "99999 is not in the range"),
])
def test_a_usage_error_is_one_line_naming_the_value(tmp_path, args, words):
    p = _run(*args, cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("artvcs: error: ") and words in p.stderr, p.stderr


def test_a_warning_is_one_line_without_source(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    os.symlink(tmp_path, data / "loop")  # a link to a folder: not followed, and said so
    assert _run("init", "--entity", "me", "--project", "p", cwd=tmp_path).returncode == 0
    p = _run("log", "data", "--name", "ds", "--type", "dataset", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    warned = [line for line in p.stderr.splitlines() if "symbolic link" in line]
    assert warned == ["artvcs: warning: add_dir: not following 1 symbolic link(s) to folders: loop"], p.stderr
    assert ".py:" not in p.stderr and "UserWarning" not in p.stderr


@pytest.mark.parametrize("args,usage", [((), "Usage: artvcs [OPTIONS] COMMAND"), (("meta",), "Usage: artvcs meta [OPTIONS]")])
def test_a_group_without_its_command_shows_its_help(tmp_path, args, usage):
    p = _run(*args, cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    lines = p.stderr.splitlines()
    assert lines[0].startswith(usage) and "Commands:" in lines and "artvcs: error:" not in p.stderr, p.stderr


def test_the_cli_called_in_process_leaves_sigint_as_it_found_it(tmp_path, monkeypatch):
    """The first-Ctrl-C handler is the command's while it runs; a Python caller gets its own back."""
    import signal

    from artvcs.porcelain import cli

    monkeypatch.chdir(tmp_path)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert cli.main(["--version"]) == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # nohup'd or ignored: left alone
    try:
        assert cli.main(["--version"]) == 0
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_a_second_ctrl_c_while_the_first_unwinds_ends_by_the_signal(tmp_path):
    """A command stuck in its Ctrl-C cleanup is ended by the next Ctrl-C, as git's are, without a traceback."""
    import signal

    script = ("import sys, time; from artvcs.porcelain import cli\n"
              "@cli.cli.command('stuck')\n"
              "def stuck():\n"
              "    try:\n"
              "        print('ready', flush=True); time.sleep(60)\n"
              "    finally:\n"
              "        print('cleaning', flush=True); time.sleep(60)\n"
              "cli.freeze_imports = True\n"
              "sys.exit(cli.main(['stuck']))\n")
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGINT)
    assert p.stdout.readline() == b"cleaning\n"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == -signal.SIGINT and b"Traceback" not in err, (p.returncode, err)
