"""file:// references never read a non-regular file or more than the recorded size, and one that
arrived from a remote is followed only where its bytes are checked or the user allowed its folder.

Real files, a real FIFO, /dev/zero, /proc, and a real file:// remote that a
second repository clones; the error says which of the two conditions to meet.
"""
from __future__ import annotations

import os
import threading

import pytest

import artvcs
from artvcs.draft.file_references import FileReferencePolicy, policy_for
from artvcs.draft.references import ReferenceUnavailableError, fetch_reference, resolve_reference
from artvcs.plumbing.hashing import hash_bytes
from artvcs.plumbing.manifest import Entry


def run_with_deadline(fn, seconds: float = 10.0):
    """``fn()`` in a thread; fail (not hang) if it has not returned in time."""
    out: dict = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as e:  # handed to the test thread
            out["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still reading after {seconds} s"
    if "error" in out:
        raise out["error"]
    return out.get("value")


@pytest.fixture
def special(tmp_path):
    """A FIFO, a link to /dev/zero and a link to /proc/self/environ."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "environ").symlink_to("/proc/self/environ")
    return tmp_path


@pytest.mark.parametrize("name", ["fifo", "zero"])
def test_a_non_regular_file_is_never_read(special, tmp_path, name):
    uri = f"file://{special / name}"
    with pytest.raises(ReferenceUnavailableError, match="not a regular file"):
        run_with_deadline(lambda: resolve_reference(uri, "x"))
    dest = tmp_path / "dest"
    for digest in (hash_bytes(b"\0" * 10), hash_bytes(uri.encode())):  # checked or not: refused alike
        with pytest.raises(ReferenceUnavailableError, match="not a regular file"):
            run_with_deadline(lambda: fetch_reference(Entry("x", digest, 10, uri, {}), str(dest)))
        assert not dest.exists()


def test_a_proc_file_reports_no_size_and_is_not_read(special, tmp_path):
    uri = f"file://{special / 'environ'}"
    dest = tmp_path / "dest"
    with pytest.raises(ReferenceUnavailableError, match="it is 0 bytes; 4096 were recorded"):
        fetch_reference(Entry("env", hash_bytes(uri.encode()), 4096, uri, {}), str(dest))
    assert not dest.exists() or dest.read_bytes() == b""


def test_never_more_than_the_recorded_size(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 100_000)
    uri = f"file://{big}"
    dest = tmp_path / "dest"
    with pytest.raises(ReferenceUnavailableError, match="it is 100000 bytes; 10 were recorded"):
        fetch_reference(Entry("big", hash_bytes(b"x" * 10), 10, uri, {}), str(dest))
    assert not dest.exists()
    fetch_reference(Entry("big", hash_bytes(b"x" * 100_000), 100_000, uri, {}), str(dest))
    assert dest.stat().st_size == 100_000


# -- references that arrived from a remote -------------------------------------------------------------
@pytest.fixture
def cloned(tmp_path, monkeypatch, cli):
    """Repository a logs two file references to a shared folder and pushes to a file:// remote;
    repository b clones it. Returns (shared folder, b's folder)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "checked.txt").write_text("checked\n")
    (shared / "loose.txt").write_text("loose\n")
    monkeypatch.setenv("ARTVCS_ENTITY", "me")
    monkeypatch.setenv("ARTVCS_PROJECT", "proj")
    monkeypatch.delenv("ARTVCS_DIR", raising=False)
    remote = tmp_path / "remote"
    a = tmp_path / "a"
    a.mkdir()
    monkeypatch.chdir(a)
    assert cli("init").code == 0
    art = artvcs.Artifact("refs", "dataset")
    art.add_reference(f"file://{shared / 'checked.txt'}")
    art.add_reference(f"file://{shared / 'loose.txt'}", checksum=False)
    with artvcs.init(job_type="t") as run:
        run.log_artifact(art)
    artvcs.finish()
    assert cli("remote", "add", "origin", f"file://{remote}").code == 0
    assert cli("push").code == 0, cli("push")
    monkeypatch.chdir(tmp_path)
    r = cli("clone", f"file://{remote}", "b")
    assert r.code == 0, r.err
    monkeypatch.chdir(tmp_path / "b")
    return shared, tmp_path / "b"


def test_a_remote_reference_with_no_content_digest_needs_an_allowed_root(cloned, cli, tmp_path):
    shared, b = cloned
    out = tmp_path / "out"
    r = cli("download", "refs:v0", str(out))
    assert r.code == 1 and r.err.count("\n") == 1
    assert "loose.txt" in r.err and "arrived from remote 'origin'" in r.err
    assert "records no content digest" in r.err and "references: file_roots" in r.err
    (b / ".artifacts" / "config.yaml").write_text(f"references:\n  file_roots: [{shared}]\n")
    r = cli("download", "refs:v0", str(out))
    assert r.code == 0, r.err
    assert (out / "loose.txt").read_text() == "loose\n" and (out / "checked.txt").read_text() == "checked\n"


def test_a_remote_reference_with_a_content_digest_is_checked_as_read(cloned, cli, tmp_path):
    shared, b = cloned
    (shared / "loose.txt").unlink()  # only the checked reference is left to download
    out = tmp_path / "out"
    r = cli("download", "refs:v0", str(out), "--allow-missing-references")
    assert r.code == 0, r.err
    assert (out / "checked.txt").read_text() == "checked\n"
    (shared / "checked.txt").write_text("CHECKED\n")  # same size, other bytes
    r = cli("download", "refs:v0", str(tmp_path / "out2"))
    assert r.code == 1 and "checked.txt" in r.err and "changed since it was logged" in r.err
    assert not (tmp_path / "out2" / "checked.txt").exists()


def test_a_reference_added_here_is_the_users_own(project, tmp_path):
    shared = tmp_path / "mine.txt"
    shared.write_text("mine\n")
    uri = f"file://{shared}"
    policy = policy_for(str(project / ".artifacts"), str(project / ".artifacts" / "config.yaml"))
    assert policy.origin(uri) is None
    dest = tmp_path / "d"
    fetch_reference(Entry("m", hash_bytes(uri.encode()), 5, uri, {}), str(dest), policy)
    assert dest.read_text() == "mine\n"
    strict = FileReferencePolicy(lambda u: "origin", ())
    with pytest.raises(ReferenceUnavailableError, match="arrived from remote 'origin'"):
        fetch_reference(Entry("m", hash_bytes(uri.encode()), 5, uri, {}), str(tmp_path / "e"), strict)


@pytest.mark.parametrize("text", ["references: [1]\n", "references:\n  file_roots: relative/x\n", "references:\n  file_roots: [x]\n"])
def test_a_bad_allowed_roots_setting_is_named(project, text):
    (project / ".artifacts" / "config.yaml").write_text(text)
    with pytest.raises(artvcs.errors.UsageError, match="config.yaml"):
        policy_for(str(project / ".artifacts"), str(project / ".artifacts" / "config.yaml"))
