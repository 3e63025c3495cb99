"""Fixtures for binding tests: a fresh project folder with its own repository."""
from __future__ import annotations

import pytest

import artvcs
from artvcs.plumbing.repository import init_repository


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (the cwd) holding a new .artifacts repository; entity 'me', project 'proj'."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTVCS_ENTITY", "me")
    monkeypatch.setenv("ARTVCS_PROJECT", "proj")
    monkeypatch.delenv("ARTVCS_DIR", raising=False)
    init_repository(str(tmp_path))
    yield tmp_path
    artvcs.finish()


@pytest.fixture
def files(project):
    """A small data folder: three files in two folders."""
    data = project / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("alpha\n")
    (data / "b.txt").write_text("beta\n")
    (data / "sub" / "c.bin").write_bytes(bytes(range(256)) * 4)
    return data
