"""The stat-cache scan of a folder: the C loop and the Python loop give the same answers.

Both run on the same real folders and the same stat-cache rows (written by
StatCache itself, or damaged): odd names, symbolic links, folders, hard
links, files changed after they were recorded, racily clean files, missing
files and folders. The C extension is built by ``pip install -e .``; on a
machine with a compiler it must be there.
"""
from __future__ import annotations

import os
import shutil
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import scan as scanmod
from artvcs.plumbing.statcache import COUNT, FIXED, RACY_NS, StatCache, pack, split, unpack

native = scanmod._native


def both(folder, names, row, solo) -> list:
    """The Python answer, after checking that the C one is the same."""
    py = scanmod.scan_python(str(folder), names, row, solo)
    assert native(str(folder), names, row, solo) == py
    return py


def test_the_c_loop_is_built_where_a_compiler_is():
    if shutil.which("gcc") or shutil.which("cc"):
        assert native is not None, "pip install -e . should have built artvcs.plumbing._scan"
        assert scanmod.scan is native or os.environ.get("ARTVCS_NATIVE") == "0"


pytestmark = pytest.mark.skipif(native is None, reason="the C loop was not built (no compiler)")

ODD = ["plain.bin", "with space.txt", "ünï cödé.txt", "new\nline", "-dash", "'quote\"", "x" * 200,
       os.fsdecode(b"\xff\xfe raw bytes"), "%2Egit", "tab\tname"]


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    for i, n in enumerate(ODD):
        (d / os.fsencode(n).decode("utf-8", "surrogateescape")).write_bytes(bytes([i]) * (i + 1))
    return d


def record_all(cache: StatCache, folder, names, hashed_ns=None, clock_dev=None) -> None:
    for n in names:
        p = os.path.join(str(folder), n)
        st = os.lstat(p)
        cache.record(p, st, f"{len(n):064x}", hashed_ns or time.time_ns() + 2 * RACY_NS, clock_dev)
    cache.flush()


def test_recorded_unchanged_files_are_vouched_for(tmp_path, folder):
    cache = StatCache(str(tmp_path / "c" / "stat.db"))
    record_all(cache, folder, ODD)
    row = cache.row(str(folder))
    out = both(folder, ODD, row, True)
    assert out == [(f"{len(n):064x}", i + 1, None) for i, n in enumerate(ODD)]
    assert both(folder, ODD + ["absent"], row, True)[-1] is None


def test_links_folders_changes_and_racy_files_are_left_to_python(tmp_path, folder):
    cache = StatCache(str(tmp_path / "c" / "stat.db"))
    (folder / "sub").mkdir()
    os.symlink("plain.bin", folder / "link")
    os.link(folder / "-dash", folder / "hard")
    record_all(cache, folder, ODD + ["link", "sub", "hard"])
    # changed after it was recorded: same size, new mtime
    p = folder / "with space.txt"
    p.write_bytes(b"\x01\x01")
    os.utime(p, ns=(1, 1))
    # recorded racily (hashed less than a second after its stamp, by another clock): a row
    # written by hand, since StatCache never writes a record that could not be used
    racy = folder / "racy.bin"
    racy.write_bytes(b"r")
    os.link(racy, folder / "clean.bin")  # the same inode, recorded under another name as clean
    rs = os.lstat(racy)
    stamp = max(rs.st_mtime_ns, rs.st_ctime_ns)
    recs = unpack(cache.row(str(folder)))
    recs[b"racy.bin"] = (rs.st_dev, rs.st_ino, 1, rs.st_mtime_ns, rs.st_ctime_ns, stamp + RACY_NS - 1, None, None, "e" * 64)
    recs[b"clean.bin"] = (rs.st_dev, rs.st_ino, 1, rs.st_mtime_ns, rs.st_ctime_ns, stamp + RACY_NS, None, None, "e" * 64)
    row = pack(recs)
    assert both(folder, ["clean.bin", "racy.bin"], row, False) == [("e" * 64, 1, None), False]
    names = ["link", "sub", "hard", "with space.txt", "racy.bin", "plain.bin"]
    out = both(folder, names, row, True)
    assert out[:5] == [False] * 5 and out[5] == (f"{len('plain.bin'):064x}", 1, None)
    assert both(folder, ["hard"], row, False) == [(f"{len('hard'):064x}", 5, None)]  # a hard link of ODD[4]
    # the same file system's clock: strictly older is enough
    same = folder / "same.bin"
    same.write_bytes(b"s")
    st = os.lstat(same)
    cache.record(str(same), st, "f" * 64, max(st.st_mtime_ns, st.st_ctime_ns) + 1, st.st_dev, 42)
    cache.flush()
    assert both(folder, ["same.bin"], cache.row(str(folder)), True) == [("f" * 64, 1, 42)]


def test_missing_folders_and_files_in_the_way(tmp_path, folder):
    assert both(tmp_path / "nowhere", ["a", "b"], None, True) == [None, None]
    assert both(folder / "plain.bin", ["a"], None, True) == [None]  # a file where the folder should be
    assert both(folder, ["plain.bin", "nothing"], None, True) == [False, None]


def test_a_file_replaced_between_record_and_scan(tmp_path, folder):
    cache = StatCache(str(tmp_path / "c" / "stat.db"))
    record_all(cache, folder, ["plain.bin"])
    tmp = folder / "new"
    tmp.write_bytes(b"\x00")  # same size and bytes, another inode
    os.replace(tmp, folder / "plain.bin")
    assert both(folder, ["plain.bin"], cache.row(str(folder)), True) == [False]


@settings(max_examples=300, deadline=2000)
@given(st.binary(max_size=600))
def test_damaged_rows_give_the_same_answer_and_never_crash(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "a").write_bytes(b"x")
    assert both(d, ["a", "b"], data, True)[1] is None
    assert isinstance(unpack(data), dict)


@settings(max_examples=100, deadline=2000)
@given(st.dictionaries(st.binary(min_size=1, max_size=20).filter(lambda b: b"\0" not in b and b"/" not in b),
                       st.tuples(*[st.integers(-2**63, 2**63 - 1)] * 8, st.text("0123456789abcdef", max_size=64)),
                       max_size=20))
def test_rows_round_trip(records):
    assert unpack(pack(records)) == {k: (*v[:6], None if v[6] == -1 else v[6], None if v[7] == -1 else v[7], v[8])
                                     for k, v in records.items()}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 2)), min_size=1, max_size=8))
def test_rows_with_names_out_of_order_are_empty_in_both_loops(tmp_path_factory, order):
    """A row whose names repeat or are out of order (records that each vouch for a real file, some
    of a repeated name with another digest) vouches for nothing, in C as in Python: neither
    takes its first or last record of a name."""
    d = tmp_path_factory.mktemp("order")
    cache = StatCache(str(tmp_path_factory.mktemp("cache") / "stat.db"))
    names = ["a", "b", "c", "d"]
    for n in names:
        (d / n).write_bytes(n.encode() * 3)
    record_all(cache, d, names)
    got, fixed = split(cache.row(str(d)))
    assert got == [n.encode() for n in names]
    size = FIXED.size
    parts = [fixed[names.index(n) * size : names.index(n) * size + 64] + f"{k:064x}".encode() for n, k in order]
    row = COUNT.pack(len(order)) + b"".join(parts) + b"".join(n.encode() + b"\0" for n, _ in order)
    increasing = all(a[0] < b[0] for a, b in zip(order, order[1:]))
    answer = both(d, names, row, False)
    if increasing:  # a good row: each name's one record vouches, with its own digest
        given_digest = {n: f"{k:064x}" for n, k in order}
        assert [a and a[0] for a in answer] == [given_digest.get(n, False) for n in names]
    else:
        assert answer == [False] * len(names), "a row out of order is empty"
        assert unpack(row) == {}
