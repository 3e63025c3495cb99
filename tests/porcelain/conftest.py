"""Porcelain tests run the real command line in-process: stdout and stderr apart, exit code returned."""
from __future__ import annotations

import json

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
