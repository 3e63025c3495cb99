"""A checkout's large files (CHUNK_THRESHOLD and up) are copied two at a time: every one whole
under its own name, verified, and recorded against its own stat; a rotten one among them fails
the checkout and leaves nothing of itself, and nothing half-written of the others."""
from __future__ import annotations

import os
import random

import blake3
import pytest

from artvcs.plumbing import checkout
from artvcs.plumbing.checkout import materialize, verify_folder
from artvcs.plumbing.errors import CorruptObjectError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.statcache import StatCache
from artvcs.plumbing.store import CHUNK_THRESHOLD
from test_verified_reads import leftovers, rot

SIZES = (CHUNK_THRESHOLD + 1, CHUNK_THRESHOLD + 3 * 65536 + 7, CHUNK_THRESHOLD + 2 * 65536)  # all told apart by size


def _large(repo, tmp_path, n: int = 3, chunked: int | None = None) -> list[tuple[Entry, bytes]]:
    """``n`` large files stored whole (the one at index ``chunked`` stored as chunks) and one small."""
    out = []
    for i in range(n):
        data = random.Random(i).randbytes(SIZES[i % len(SIZES)] + i)
        if i == chunked:
            src = tmp_path / f"src{i}"
            src.write_bytes(data)
            digest, _ = repo.store.put_file(str(src), chunked=True)
            assert repo.store.is_chunked(digest)
        else:
            digest = repo.store.put_bytes(data)
        assert digest == blake3.blake3(data).hexdigest()
        out.append((Entry(f"d{i % 2}/big{i}.bin", digest, len(data)), data))
    out.append((Entry("small.txt", repo.store.put_bytes(b"small\n"), 6), b"small\n"))
    return out


@pytest.mark.parametrize("workers", [2, 1], ids=["two-at-a-time", "one-at-a-time"])
def test_large_files_whole_and_chunked_are_all_written_verified_and_recorded(repo, tmp_path, monkeypatch, workers):
    monkeypatch.setattr(checkout, "LARGE_WORKERS", workers)
    files = _large(repo, tmp_path, n=5, chunked=1)
    entries = [e for e, _ in files]
    root = tmp_path / "out"
    result = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert result.written == len(files)
    for e, data in files:
        assert (root / e.path).read_bytes() == data
    recs = StatCache(repo.statcache.db_path).load_prefix(str(root))
    for e, _ in files:  # each record holds its own file's stat: a mixed-up order would not match
        st = os.lstat(root / e.path)
        r = recs[str(root / e.path)]
        assert r[1] == e.digest and r[0] == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns), e.path
    assert verify_folder(entries, str(root), repo.statcache) == []
    assert not [n for n in leftovers(root) if ".artvcs-tmp-" in n]


def test_a_rotten_large_file_among_others_fails_naming_it_and_leaves_no_part_of_any(repo, tmp_path):
    files = _large(repo, tmp_path, n=4)
    bad_entry, _ = files[2]
    bad = rot(repo, bad_entry.digest, offset=CHUNK_THRESHOLD - 10)  # near the end: found after the copy
    root = tmp_path / "out"
    with pytest.raises(CorruptObjectError) as err:
        materialize(repo.store, [e for e, _ in files], str(root), mode="copy", statcache=repo.statcache)
    assert bad_entry.digest in str(err.value) and bad in str(err.value) and bad_entry.path in str(err.value)
    assert not (root / bad_entry.path).exists()
    assert not [n for n in leftovers(root) if ".artvcs-tmp-" in n]
    for e, data in files:  # the others: whole, or not there (never a part)
        if e is not bad_entry and (root / e.path).exists():
            assert (root / e.path).read_bytes() == data
    recs = StatCache(repo.statcache.db_path).load_prefix(str(root))
    assert all(r[1] != bad_entry.digest for r in recs.values())
