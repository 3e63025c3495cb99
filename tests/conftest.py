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
    """A fresh folder with an initialised repository, as the current folder; its recorded default namespace is
    entity me, project proj (as ``artvcs init --entity me --project proj`` makes it; no variable is set)."""
    from artvcs.plumbing.repository import init_repository

    monkeypatch.chdir(tmp_path)
    for var in ("ARTVCS_DIR", "ARTVCS_ENTITY", "ARTVCS_PROJECT"):
        monkeypatch.delenv(var, raising=False)  # whatever the shell running the tests has set
    init_repository(str(tmp_path), entity="me", project="proj")
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


@pytest.fixture
def repo(repo_dir):
    """The open repository of ``repo_dir`` (the current folder; entity me, project proj)."""
    from artvcs.plumbing.repository import discover

    r = discover()
    yield r
    r.close()


class CliResult(tuple):
    """``(code, out, err)`` of one in-process run; ``out_bytes`` is stdout exactly as written."""

    code = property(lambda self: self[0])
    out = property(lambda self: self[1])
    err = property(lambda self: self[2])
    out_bytes = property(lambda self: self[1].encode("utf-8", "surrogateescape"))


@pytest.fixture
def cli():
    """Run ``artvcs ARGS`` in-process (artvcs.porcelain.cli.main) with stdout and stderr kept apart.

    Returns ``(exit code, stdout, stderr)``; stdout is decoded with
    surrogateescape so binary output round-trips through ``.out_bytes``.
    """
    from click.testing import CliRunner

    from artvcs.porcelain.cli import main

    def run(*args: str, input: bytes | str | None = None) -> CliResult:
        with CliRunner().isolation(input=input) as (out, err, _):
            try:
                code = main(list(args))
            except SystemExit as e:  # what the console script would exit with
                code = e.code if isinstance(e.code, int) else 1
            return CliResult((code, out.getvalue().decode("utf-8", "surrogateescape"), err.getvalue().decode()))

    return run


@pytest.fixture
def golden(request):
    """``golden(name, data)``: assert ``data`` (str or bytes) equals ``golden/<name>`` beside the test file.

    ``ARTVCS_UPDATE_GOLDEN=1`` writes the files instead; review the diff before committing it.
    """
    folder = request.path.parent / "golden"

    def check(name: str, data: str | bytes) -> None:
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        path = folder / name
        if os.environ.get("ARTVCS_UPDATE_GOLDEN") == "1":
            folder.mkdir(exist_ok=True)
            path.write_bytes(raw)
        assert path.exists(), f"{path} missing: run with ARTVCS_UPDATE_GOLDEN=1 and review it"
        assert raw == path.read_bytes(), f"output differs from {path}"

    return check


@pytest.fixture
def small_packs(monkeypatch):
    """Chunk packs of 1 MiB and chunking blocks of 1 MiB, so a few MiB of data make many packs."""
    from artvcs.plumbing import chunking, chunkpacks

    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 << 20)
    monkeypatch.setattr(chunking, "BLOCK", 1 << 20)
