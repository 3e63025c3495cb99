"""Porcelain tests run the real command line in-process: stdout and stderr apart, exit code returned."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from artvcs.porcelain.cli import main


class Cli:
    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *args: str):
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str):
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(repo_dir, capsys):
    return Cli(capsys)


@pytest.fixture
def data(repo_dir):
    d = repo_dir / "data"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("alpha\n")
    (d / "sub" / "b.txt").write_text("beta\n")
    return d


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session", params=[False, True], ids=["pip install .", "pip install -e ."])
def installed(request, tmp_path_factory):
    """This project installed into a fresh venv, plainly (``pip install .``) or editable (``-e .``),
    from a copy of its sources: ``(venv prefix, source copy, env)``, where ``env`` runs the venv's
    programs with this environment's dependencies (PYTHONPATH: they are not installed there)."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    for name in ("artvcs", "plumbing", "porcelain", "man"):
        shutil.copytree(os.path.join(ROOT, name), src / name, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    prefix = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    # The new venv's interpreter runs this environment's pip, setuptools and wheel (PYTHONPATH; offline,
    # no build isolation); pip installs into the new venv and leaves this environment's artvcs alone.
    # (links to all of it but this environment's own artvcs: its editable finder has the new one's name)
    deps = tmp / "deps"
    deps.mkdir()
    purelib = sysconfig.get_paths()["purelib"]
    for name in os.listdir(purelib):
        if not name.startswith(("__editable__", "artvcs")):
            os.symlink(os.path.join(purelib, name), deps / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(deps)
    pip = [str(prefix / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    p = subprocess.run(pip + (["-e", str(src)] if request.param else [str(src)]), capture_output=True, text=True,
                       env=env, cwd=tmp)
    assert p.returncode == 0, p.stderr
    return prefix, src, env
