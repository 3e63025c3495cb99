"""Folder sums: stored rows of any bytes parse to sums or to nothing (the cache is advisory), and
a folder holds a version's sums exactly when its files are those entries, the stat cache vouching."""
from __future__ import annotations

import datetime
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import foldersums
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing import scan as scanmod
from artvcs.plumbing.statcache import RACY_NS, StatCache

FUZZ = settings(max_examples=200, deadline=datetime.timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=200))
def test_any_stored_bytes_give_sums_or_nothing(blob):
    sums = foldersums.unpack(blob)
    assert sums is None or all(isinstance(k, str) and isinstance(v, bytes) and len(v) == 32 for k, v in sums.items())


@FUZZ
@given(st.dictionaries(st.text(max_size=12), st.binary(min_size=32, max_size=32), max_size=6))
def test_sums_come_back_as_stored(sums):
    sums = {k.replace("\0", ""): v for k, v in sums.items()}
    assert foldersums.unpack(foldersums.pack(sums)) == sums


@pytest.mark.parametrize("loop", ["native", "python"])
def test_a_folder_holds_the_sums_of_its_entries(tmp_path, monkeypatch, loop):
    if loop == "native" and scanmod._native is None:
        pytest.skip("the C loop was not built (no compiler)")
    monkeypatch.setattr(foldersums, "tree", scanmod._native_tree if loop == "native" else scanmod.tree_python)
    root = tmp_path / "root"
    (root / "sub" / "deep").mkdir(parents=True)
    names = {"a.txt": b"a", "sub/b.bin": b"bb", "sub/deep/ünï cödé": b"ccc", os.fsdecode(b"raw \xff"): b"d"}
    cache = StatCache(str(tmp_path / "stat.db"))
    entries = []
    for i, (path, data) in enumerate(names.items()):
        (root / path).write_bytes(data)
        digest = f"{i:064x}"
        cache.record(str(root / path), os.lstat(root / path), digest, time.time_ns() + 2 * RACY_NS)
        entries.append(Entry(path, digest, len(data), None, {}))
    cache.flush()
    sums = foldersums.sums_of(entries)
    rows = dict(cache.rows_below(str(root)))
    assert foldersums.holds(str(root), sums, rows)
    assert not foldersums.holds(str(root), foldersums.sums_of(entries[:-1]), rows), "a file the version does not name"
    assert not foldersums.holds(str(root), {**sums, "other": b"\0" * 32}, rows), "a folder the version has, missing"
    (root / "sub" / "empty").mkdir()
    assert foldersums.holds(str(root), sums, rows), "an empty folder is no file"
    (root / "sub" / "b.bin").write_bytes(b"BB")
    assert not foldersums.holds(str(root), sums, rows), "a file changed since the cache saw it"
    cache.close()


def test_no_sums_for_references_or_too_many_entries(monkeypatch):
    entries = [Entry(f"d/f{i}", f"{i:064x}", 1, None, {}) for i in range(4)]
    assert foldersums.sums_of(entries) is not None
    assert foldersums.sums_of(entries + [Entry("r", "f" * 64, 1, "s3://bucket/r", {})]) is None
    monkeypatch.setattr(foldersums, "MAX_ENTRIES", 3)  # their lines are held at once: memory stays bounded
    assert foldersums.sums_of(entries) is None and foldersums.sums_of(entries[:3]) is not None


def _entries(n: int, ref_at: int | None = None) -> list[Entry]:
    # folders interleaved, and a folder coming back after others
    return [Entry(f"{'ab'[i % 2]}/{i // 7}/f{i}" if i % 3 else f"top{i}", f"{i:064x}", i,
                  "file:///x" if i == ref_at else None) for i in range(n)]


def test_sums_along_the_stream_are_those_of_the_entries(monkeypatch):
    monkeypatch.setattr(foldersums, "MAX_ENTRIES", 40)
    for n in (0, 1, 39, 40):
        along = foldersums.SumsAlong(iter(_entries(n)) if n == 1 else _entries(n))
        assert along.sums() is None, "nothing passed yet"
        assert list(along) == _entries(n)
        assert along.sums() == foldersums.sums_of(_entries(n)) is not None
    along = foldersums.SumsAlong(_entries(39))
    assert list(along) == list(along) and along.sums() == foldersums.sums_of(_entries(39)), "each pass starts afresh"
    for too_many in (foldersums.SumsAlong(_entries(41)), foldersums.SumsAlong(_entries(20, ref_at=7))):
        assert len(list(too_many)) in (41, 20) and too_many.sums() is None  # as sums_of: no sums
    assert foldersums.sums_of(_entries(41)) is None and foldersums.sums_of(_entries(20, ref_at=7)) is None
    half = foldersums.SumsAlong(_entries(30))
    it = iter(half)
    next(it), next(it)
    assert half.sums() is None, "a pass that stopped early gives no sums"
