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
