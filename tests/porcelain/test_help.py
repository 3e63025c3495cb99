"""``artvcs help CMD`` shows the man page; ``man artvcs`` finds the pages after ``pip install .`` and ``-e .``."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

EXE = os.path.join(os.path.dirname(sys.executable), "artvcs")
needs_man = pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")


def _help(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MANPATH", "PAGER", "MANPAGER")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([EXE, "help", *args], capture_output=True, text=True, env=env, cwd="/")


@needs_man
def test_help_shows_the_page(tmp_path):
    p = _help("log")
    assert p.returncode == 0 and p.stdout.lstrip().startswith("ARTVCS-LOG(1)"), p.stderr
    assert "--metadata-file" in p.stdout and "EXIT STATUS" in p.stdout
    p = _help("alias", "add")
    assert p.returncode == 0 and p.stdout.lstrip().startswith("ARTVCS-ALIAS(1)")
    p = _help("remote", "ls")
    assert p.returncode == 0 and p.stdout.lstrip().startswith("ARTVCS-REMOTE(1)"), "either spelling finds the page"
    p = _help("format")
    assert p.returncode == 0 and p.stdout.lstrip().startswith("ARTVCS-FORMAT(5)")
    p = _help()
    assert p.returncode == 0 and p.stdout.lstrip().startswith("ARTVCS(1)")


def test_help_without_man_prints_the_usage(tmp_path):
    (tmp_path / "bin").mkdir()  # a PATH with no man on it
    p = _help("log", path=str(tmp_path / "bin"))
    assert p.returncode == 0 and p.stdout.startswith("Usage: artvcs log [OPTIONS] PATHS..."), p.stderr
    p = _help("alias", "add", path=str(tmp_path / "bin"))
    assert p.returncode == 0 and p.stdout.startswith("Usage: artvcs alias add")


def test_help_of_an_unknown_command_is_a_usage_error():
    p = _help("nope")
    assert p.returncode == 2 and "no command 'nope'" in p.stderr and p.stdout == ""
    p = _help("alias", "nope")
    assert p.returncode == 2 and "artvcs alias has no command 'nope'" in p.stderr


@needs_man
def test_man_finds_the_installed_pages(installed):
    """Installed into a venv, whose bin folder is on PATH (what activating does), man finds its share/man."""
    prefix = installed[0]
    env = {k: v for k, v in os.environ.items() if k not in ("MANPATH", "PAGER", "MANPAGER")}
    env["PATH"] = f"{prefix / 'bin'}:/usr/bin:/bin"
    for page, section in (("artvcs", "man1"), ("artvcs-log", "man1"), ("artvcs-format", "man5")):
        found = subprocess.run(["man", "-w", page], capture_output=True, text=True, env=env)
        assert found.stdout.strip() == str(prefix / "share" / "man" / section / f"{page}.{section[-1]}"), found.stderr
    shown = subprocess.run(["man", "artvcs-help"], capture_output=True, text=True, env=env)
    assert shown.returncode == 0 and shown.stdout.lstrip().startswith("ARTVCS-HELP(1)")
