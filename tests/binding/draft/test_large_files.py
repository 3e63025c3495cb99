"""Large files through the binding: stored whole when new, chunked once a second version arrives,
invisible above the store."""
from __future__ import annotations

import os
import random

import blake3
import pytest

import artvcs
from artvcs.plumbing import chunkstore
from artvcs.plumbing.repository import FORMAT_FILE, discover
from artvcs.plumbing.store import CHUNK_THRESHOLD

MiB = 1 << 20


def _store_bytes(gitdir: str) -> int:
    total = 0
    for sub in ("content", "chunks", "chunklists"):
        for r, _, fs in os.walk(os.path.join(gitdir, sub)):
            total += sum(os.lstat(os.path.join(r, f)).st_size for f in fs)
    return total


def _log(project, name: str = "ds", **add) -> artvcs.Artifact:
    with artvcs.init(job_type="t") as run:
        a = artvcs.Artifact(name, type="dataset")
        a.add_dir(str(project / "data"), **add)
        return run.log_artifact(a)


def _edit(path, at: int, n: int, seed: int) -> None:
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(random.Random(seed).randbytes(n))


def _first(project, seed: int, size: int):
    """data/big.bin of ``size`` random bytes logged as ds:v0: (its path, the store, its digest)."""
    (project / "data").mkdir()
    big = project / "data" / "big.bin"
    big.write_bytes(random.Random(seed).randbytes(size))
    _log(project)
    return big, discover(str(project)).store, artvcs.Api().artifact("ds:v0").manifest.entries["big.bin"].digest


def test_a_new_large_file_is_stored_whole_and_both_versions_chunk_when_the_second_arrives(project, monkeypatch):
    big, store, d0 = _first(project, 1, 8 * MiB + 12345)
    data = big.read_bytes()
    gitdir = os.path.dirname(store.root)
    assert os.path.isfile(store.path_of(d0)) and not store.is_chunked(d0)  # the fast path: one copy
    assert open(os.path.join(gitdir, FORMAT_FILE)).read() == "artvcs-format 1\n"

    before = _store_bytes(gitdir)
    # version 2 from a file the stat cache never saw: staged whole, then the log converts both
    (project / "data2").mkdir()
    big = project / "data2" / "big.bin"
    big.write_bytes(data)
    _edit(big, 3 * MiB, 64 * 1024, seed=2)
    d1 = blake3.blake3(big.read_bytes()).hexdigest()
    with artvcs.init(job_type="t") as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(project / "data2"))
        assert not store.is_chunked(d1)
        run.log_artifact(a)
    for d in (d0, d1):  # both chunked, neither whole any more, both read back verified
        assert store.is_chunked(d) and not os.path.exists(store.path_of(d))
        store.verify(d)
    assert open(os.path.join(gitdir, FORMAT_FILE)).read() == "artvcs-format 2\n"
    growth = _store_bytes(gitdir) - before
    assert growth < 1 * MiB, f"version 2 cost {growth} bytes: it should cost about its changed chunks"
    api = artvcs.Api()
    v0, v1 = api.artifact("ds:v0"), api.artifact("ds:v1")
    assert v0.manifest.entries["big.bin"].digest == d0 and v1.manifest.entries["big.bin"].digest == d1
    assert open(os.path.join(v0.download(str(project / "out0")), "big.bin"), "rb").read() == data
    assert open(os.path.join(v1.download(str(project / "out1")), "big.bin"), "rb").read() == big.read_bytes()

    def refuse(*args, **kw):
        raise AssertionError("an unchanged large file was chunked again")

    monkeypatch.setattr(chunkstore, "store_chunked", refuse)
    with artvcs.init(job_type="t") as run:  # unchanged, and the same file under a new path: nothing to chunk
        b = artvcs.Artifact("ds", type="dataset")
        b.add_dir(str(project / "data2"))
        b.add_file(str(big), name="again/big.bin")
        assert run.log_artifact(b).version == "v2"
    path = api.artifact("ds:v2").get_entry("again/big.bin").download(str(project / "one"))
    assert open(path, "rb").read() == big.read_bytes()


def test_only_a_large_file_replacing_a_large_file_at_its_path_is_chunked(project):
    (project / "data").mkdir()
    rnd = random.Random(5)
    (project / "data" / "small.bin").write_bytes(rnd.randbytes(1000))
    (project / "data" / "grows.bin").write_bytes(rnd.randbytes(1000))
    (project / "data" / "a.bin").write_bytes(rnd.randbytes(CHUNK_THRESHOLD))
    _log(project)
    (project / "data" / "grows.bin").write_bytes(rnd.randbytes(CHUNK_THRESHOLD + 1))  # was small
    (project / "data" / "new.bin").write_bytes(rnd.randbytes(CHUNK_THRESHOLD + 2))  # no earlier version
    _log(project)
    store = discover(str(project)).store
    entries = artvcs.Api().artifact("ds:v1").manifest.entries
    for name in ("grows.bin", "new.bin", "a.bin"):
        d = entries[name].digest
        assert os.path.isfile(store.path_of(d)) and not store.is_chunked(d), name
    assert not list(chunkstore.iter_lists(store))


def test_a_draft_based_on_a_version_chunks_what_it_replaces(project):
    big, store, d0 = _first(project, 6, 6 * MiB)
    v0 = artvcs.Api().artifact("ds:v0")
    _edit(big, 100, 1000, seed=7)
    with artvcs.init(job_type="t") as run:
        draft = v0.new_draft()
        draft.add_file(str(big), name="big.bin", overwrite=True)
        run.log_artifact(draft)
    d1 = artvcs.Api().artifact("ds:v1").manifest.entries["big.bin"].digest
    assert d1 != d0 and store.is_chunked(d0) and store.is_chunked(d1)
    assert not os.path.exists(store.path_of(d0)) and not os.path.exists(store.path_of(d1))


def test_a_damaged_earlier_file_stays_whole_with_a_warning_and_the_version_is_logged(project):
    big, store, d0 = _first(project, 8, 5 * MiB)
    stored = store.path_of(d0)
    os.chmod(stored, 0o644)
    _edit(stored, 10, 10, seed=9)  # rotted in place
    _edit(big, 2 * MiB, 1000, seed=10)
    with pytest.warns(UserWarning, match=f"content {d0} stays stored whole .*corrupt"):
        logged = _log(project)
    assert logged.version == "v1"
    assert os.path.exists(stored) and not store.is_chunked(d0)  # nothing named d0 holds other bytes
    d1 = artvcs.Api().artifact("ds:v1").manifest.entries["big.bin"].digest
    assert store.is_chunked(d1)
    store.verify(d1)


def test_a_changed_large_file_the_stat_cache_knows_is_staged_straight_as_chunks(project):
    """The same local file logged before as a large file and changed since: a new version of it, so
    add_file stores it as chunks at once (no whole copy first); the log converts the earlier one."""
    big, store, d0 = _first(project, 11, 6 * MiB)
    assert not store.is_chunked(d0)
    _edit(big, 4 * MiB, 5000, seed=12)
    with artvcs.init(job_type="t") as run:
        a = artvcs.Artifact("ds", type="dataset")
        d1 = a.add_file(str(big)).digest
        assert store.is_chunked(d1) and not os.path.exists(store.path_of(d1))  # staged as chunks, before the log
        assert not store.is_chunked(d0)
        run.log_artifact(a)
    assert store.is_chunked(d0) and not os.path.exists(store.path_of(d0))
    store.verify(d0)
    store.verify(d1)
