"""Fixtures shared by every test folder."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

BIN = os.path.dirname(sys.executable)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def repo_dir(tmp_path, monkeypatch):
    """A fresh folder with an initialised repository, as the current folder; entity me, project proj."""
    from artvcs.plumbing.repository import init_repository

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTVCS_ENTITY", "me")
    monkeypatch.setenv("ARTVCS_PROJECT", "proj")
    monkeypatch.delenv("ARTVCS_DIR", raising=False)
    init_repository(str(tmp_path))
    return tmp_path


@pytest.fixture
def run_cli():
    """Run ``artvcs ARGS`` as a real process (stdout and stderr apart); returns Result."""

    def run(*args: str, input: bytes | str | None = None, cwd: str | None = None, env: dict | None = None) -> Result:
        data = input.encode() if isinstance(input, str) else input
        p = subprocess.run([os.path.join(BIN, "artvcs"), *args], input=data, capture_output=True, cwd=cwd,
                           env={**os.environ, **(env or {})})
        return Result(p.returncode, p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode())

    return run
