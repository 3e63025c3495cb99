"""A checkout's racily clean copies (stamped in the tick of its clock reading) are hashed again once
the clock has moved on and recorded, so the next look is a stat per file; an edit at any moment
after the checkout (same size, mtime put back as ``touch -d`` would) is still caught, through the C
scan and the Python one, and the copies are written through the C batches and one at a time.

No timing is asserted: the clock reading that makes copies racy is forced (the newest stamp of the
files written so far), everything else is the real file system's.
"""
from __future__ import annotations

import os

import pytest

from artvcs.plumbing import checkout, checkplan, checkrecord, scan
from artvcs.plumbing.checkout import materialize, verify_folder
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.repository import init_repository
from artvcs.plumbing.statcache import StatCache, stat_key
from test_copybatch import copy_path  # noqa: F401 (a fixture: every test runs batched and per file)

pytestmark = pytest.mark.usefixtures("copy_path")

FILES = {f"d{i % 3}/f{i:02d}.bin": bytes([65 + i]) * (50 + 7 * i) for i in range(12)}


@pytest.fixture
def repo(tmp_path):
    r = init_repository(str(tmp_path / "proj"))
    yield r
    r.close()


@pytest.fixture(params=["C scan", "Python scan"])
def look(request, monkeypatch):
    """verify_folder settles folders through scan.c's vouched(), then through scan_python."""
    if request.param == "Python scan":
        monkeypatch.setattr(checkout, "scan", scan.scan_python)
    elif not scan.NATIVE:
        pytest.skip("the C scan was not built, or ARTVCS_NATIVE=0")
    return request.param


def stored(repo, files: dict[str, bytes]) -> list[Entry]:
    return [Entry(p, repo.store.put_bytes(data), len(data)) for p, data in files.items()]


def newest_stamp(root) -> int:
    return max(max(st.st_mtime_ns, st.st_ctime_ns) for st in
               (os.stat(os.path.join(d, n)) for d, _, ns in os.walk(root) for n in ns))


def racy_clock(monkeypatch, root, then=None) -> list[str]:
    """Make the batches' clock readings the newest stamp written so far (so those copies are racily
    clean), and let the recheck read the real clock (after ``then()``, on its first reading)."""
    real = checkrecord.fs_clock_ns
    calls: list[str] = []
    in_recheck = []
    real_recheck = checkrecord.recheck_racy

    def recheck(*a):
        in_recheck.append(True)
        return real_recheck(*a)

    def clock(folder):
        now, dev = real(folder)
        if not in_recheck:
            calls.append("batch")
            return newest_stamp(root), dev
        calls.append("recheck")
        if then is not None and calls.count("recheck") == 1:
            then()
        return real(folder)

    monkeypatch.setattr(checkrecord, "fs_clock_ns", clock)
    monkeypatch.setattr(checkrecord, "recheck_racy", recheck)
    return calls


def edit_same_size_keep_mtime(path: str) -> None:
    """Change one byte in place and put the mtime back to the nanosecond (``touch -d``)."""
    before = os.stat(path)
    with open(path, "r+b") as f:
        first = f.read(1)
        f.seek(0)
        f.write(b"#" if first != b"#" else b"%")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size and os.stat(path).st_mtime_ns == before.st_mtime_ns


def test_racily_clean_copies_are_hashed_again_and_recorded(repo, tmp_path, monkeypatch, look):
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    calls = racy_clock(monkeypatch, root)
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert res.written == len(FILES)
    assert calls[0] == "batch" and "recheck" in calls, "some copies were racy, and the recheck read the clock"
    records = repo.statcache.load_prefix(str(root))
    for e in entries:
        target = os.path.join(str(root), e.path)
        assert StatCache.lookup(records, target, os.stat(target)) == e.digest, e.path
        assert records[target][2] > max(stat_key(os.stat(target))[3:]), "recorded under a clock past its stamps"
    hashed: list[str] = []
    real_hash = checkout.hash_file
    monkeypatch.setattr(checkout, "hash_file", lambda p: (hashed.append(p), real_hash(p))[1])
    monkeypatch.setattr(checkplan, "hash_file", lambda p: (hashed.append(p), real_hash(p))[1])
    assert verify_folder(entries, str(root), repo.statcache) == [] and hashed == [], "a stat per file, no hash"
    again = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert (again.written, again.up_to_date, hashed) == (0, len(FILES), [])


def test_an_edit_right_after_the_checkout_is_caught(repo, tmp_path, monkeypatch, look):
    """Edited at once after the checkout, the same size, its mtime put back: the ctime moved."""
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    racy_clock(monkeypatch, root)
    materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    edited = sorted(FILES)[::4]
    for p in edited:
        edit_same_size_keep_mtime(str(root / p))
    monkeypatch.undo()  # the real clock and hashes from here
    assert verify_folder(entries, str(root), repo.statcache) == [(p, "modified") for p in edited]
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert res.written == len(edited) and {p: (root / p).read_bytes() for p in FILES} == FILES


def test_an_edit_between_the_racy_reading_and_the_recheck_is_never_recorded_as_the_copy(repo, tmp_path, monkeypatch, look):
    """A writer changes a racily clean copy (same size, mtime put back) after the batch's clock
    reading and before the recheck reads the file: its record, if any, is of the bytes it holds
    now, so the folder reads as modified, never as the checked-out version."""
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    victim = sorted(FILES)[-1]
    racy_clock(monkeypatch, root, then=lambda: edit_same_size_keep_mtime(str(root / victim)))
    materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    target = str(root / victim)
    digest = {e.path: e.digest for e in entries}[victim]
    assert StatCache.lookup(repo.statcache.load_prefix(str(root)), target, os.stat(target)) != digest
    monkeypatch.undo()
    assert verify_folder(entries, str(root), repo.statcache) == [(victim, "modified")]


def test_a_copy_changed_before_the_recheck_reads_it_is_left_to_the_next_look(tmp_path):
    """_hash_unchanged hashes a file only while its fstat is the stat taken when it was complete."""
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    key = stat_key(os.stat(f))
    st, digest = checkrecord._hash_unchanged(str(f), key)
    from artvcs.plumbing.hashing import hash_bytes

    assert stat_key(st) == key and digest == hash_bytes(b"12345")
    edit_same_size_keep_mtime(str(f))
    assert checkrecord._hash_unchanged(str(f), key) is None, "ctime moved: not the stat of the copy"
    assert checkrecord._hash_unchanged(str(tmp_path / "gone"), key) is None
    os.symlink(f, tmp_path / "link")
    assert checkrecord._hash_unchanged(str(tmp_path / "link"), stat_key(os.stat(f))) is None, "a link is not followed"
