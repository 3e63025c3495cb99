"""Every stored byte the binding and the porcelain hand over is hashed on the way.

A store file rotted in place (same size, one byte flipped) makes download,
checkout, ``get_path().download()``, ``get`` and the CLI's ``checkout`` and
``download`` fail naming the path and both digests, with nothing under the
file's final name; ``--no-verify`` copies the bytes, and ``verify`` then
calls the file modified, never a match.
"""
from __future__ import annotations

import os

import blake3
import pytest

import artvcs
from artvcs.plumbing.errors import CorruptObjectError
from artvcs.plumbing.repository import discover


@pytest.fixture
def rotten(project, files):
    """A logged artifact whose stored sub/c.bin was changed in place: (artifact, good digest, bad digest)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", "dataset")
        a.add_dir(str(files))
        a.add(artvcs.Html("<p>hello</p>"), "page")
        run.log_artifact(a)
    art = artvcs.Api().artifact("ds:v0")
    digest = art.get_entry("sub/c.bin").digest
    return art, digest, _rot(discover().store.path_of(digest))


def _rot(path: str) -> str:
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(7)
        b = f.read(1)
        f.seek(7)
        f.write(bytes([b[0] ^ 1]))
    os.chmod(path, 0o444)
    return blake3.blake3(open(path, "rb").read()).hexdigest()


def _files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(r, f), root) for r, _, fs in os.walk(root) for f in fs)


@pytest.mark.parametrize("how", ["download", "checkout", "get_path"])
def test_binding_refuses_rotten_content(project, rotten, how):
    art, good, bad = rotten
    root = project / "out"
    with pytest.raises(CorruptObjectError) as err:
        if how == "download":
            art.download(str(root))
        elif how == "checkout":
            art.checkout(str(root))
        else:
            art.get_path("sub/c.bin").download(str(root))
    assert good in str(err.value) and bad in str(err.value) and "c.bin" in str(err.value)
    assert "sub/c.bin" not in _files(root) and not [f for f in _files(root) if ".artvcs-tmp-" in f]


def test_get_refuses_rotten_media(project, rotten):
    art, _, _ = rotten
    assert art.get("page") is not None
    entry = next(e for p, e in art.manifest.entries.items() if p.startswith("page"))
    bad = _rot(discover().store.path_of(entry.digest))
    with pytest.raises(CorruptObjectError, match=bad):
        artvcs.Api().artifact("ds:v0").get("page")


@pytest.mark.parametrize("command", ["checkout", "download"])
def test_cli_refuses_and_no_verify_copies_what_verify_then_calls_modified(project, rotten, run_cli, command):
    art, good, bad = rotten
    r = run_cli(command, "ds:v0", "out")
    assert r.code == 1 and good in r.err and bad in r.err and len(r.err.strip().splitlines()) == 1
    assert not os.path.exists(project / "out" / "sub" / "c.bin")
    r = run_cli(command, "--no-verify", "ds:v0", "out")
    assert r.code == 0, r.err
    assert (project / "out" / "sub" / "c.bin").exists()
    r = run_cli("verify", "ds:v0", "out")
    assert r.code == 1 and "sub/c.bin (modified)" in r.err
