"""Fixtures for binding tests: a fresh project folder with its own repository."""
from __future__ import annotations

import pytest

import artvcs


@pytest.fixture
def project(repo_dir):
    """A project folder (the cwd) holding a new .artifacts repository; entity 'me', project 'proj'."""
    yield repo_dir
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
