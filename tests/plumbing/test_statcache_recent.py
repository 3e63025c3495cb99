"""The stat cache's ``recent`` rows: a few changed records are written as a small row laid over the
folder's, folded into it once they are many; reading the two is reading the folder row they make."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

from hypothesis import given, settings, strategies as st

from artvcs.plumbing import statcache
from artvcs.plumbing.scan import scan, scan_python
from artvcs.plumbing.statcache import FIXED, FOLD_MIN, RACY_NS, StatCache, overlay, pack, split, unpack

OLD = time.time() - 100


def _files(folder, n: int, prefix: str = "f") -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"{prefix}{i:03d}"
        p.write_bytes(b"x" * (i + 1))
        os.utime(p, (OLD, OLD))
        out.append(str(p))
    return out


def _record(cache: StatCache, paths: list[str], digest: str) -> None:
    for p in paths:
        cache.record(p, os.stat(p), digest, statcache.now_ns() + 2 * RACY_NS)
    cache.flush()


def _tables(db_path: str, folder: str) -> tuple[bytes | None, bytes | None]:
    db = sqlite3.connect(db_path)
    try:
        return tuple(  # type: ignore[return-value]
            (lambda r: r[0] if r else None)(db.execute(f"SELECT records FROM {t} WHERE path = ?", (folder,)).fetchone())
            for t in ("folder", "recent"))
    finally:
        db.close()


def test_a_few_changed_records_leave_the_folder_row_alone(tmp_path):
    db_path = str(tmp_path / "c" / "stat.db")
    paths = _files(tmp_path / "d", 200)
    folder = str(tmp_path / "d")
    cache = StatCache(db_path)
    _record(cache, paths, "1" * 64)
    base, recent = _tables(db_path, folder)
    assert recent is None and len(split(base)[0]) == 200, "a first log writes the folder row"

    for p in paths[:3]:  # changed in place
        with open(p, "ab") as f:
            f.write(b"more")
        os.utime(p, (OLD, OLD))
    new = _files(tmp_path / "d", 2, prefix="new")
    _record(cache, paths[:3] + new, "2" * 64)
    base2, recent = _tables(db_path, folder)
    assert base2 == base, "the folder row is not rewritten for 5 records"
    assert sorted(unpack(recent)) == sorted(os.fsencode(os.path.basename(p)) for p in paths[:3] + new)

    cache.close()
    cache = StatCache(db_path)
    recs = cache.load_prefix(folder)
    for p in paths[:3] + new:
        assert StatCache.lookup(recs, p, os.stat(p)) == "2" * 64, "the recent record is the one read"
    assert StatCache.lookup(recs, paths[5], os.stat(paths[5])) == "1" * 64
    assert len(recs) == 202
    # the C scan and its Python twin read the laid-over row alike
    names = [os.path.basename(p) for p in paths[:6] + new]
    row = cache.row(folder)
    assert scan(folder, names, row, False) == scan_python(folder, names, row, False)
    assert [h[0] for h in scan_python(folder, names, row, False)] == ["2" * 64] * 3 + ["1" * 64] * 3 + ["2" * 64] * 2
    assert dict(cache.rows_below(str(tmp_path)))[folder] == row


def test_the_recent_row_is_folded_in_once_it_holds_an_eighth(tmp_path):
    db_path = str(tmp_path / "c" / "stat.db")
    folder = tmp_path / "d"
    paths = _files(folder, 200)
    cache = StatCache(db_path)
    _record(cache, paths, "1" * 64)
    written = 0
    for i in range(0, 40, 4):  # 4 records a flush until the recent row passes 200 / 8 = 25 records
        _record(cache, paths[i : i + 4], "2" * 64)
        written += 4
        base, recent = _tables(db_path, str(folder))
        if recent is None:
            break
    assert written == 28 and written > max(FOLD_MIN, 200 // 8), "folded at the first flush past the share"
    recs = unpack(base)
    assert len(recs) == 200
    assert [recs[os.fsencode(os.path.basename(p))][8] for p in paths[:30]] == ["2" * 64] * 28 + ["1" * 64] * 2


def test_setting_sweep_generations_folds_the_folder(tmp_path):
    db_path = str(tmp_path / "c" / "stat.db")
    folder = tmp_path / "d"
    paths = _files(folder, 100)
    cache = StatCache(db_path)
    _record(cache, paths, "1" * 64)
    _record(cache, paths[:2], "2" * 64)
    assert _tables(db_path, str(folder))[1] is not None
    cache.confirm([(paths[0], "2" * 64), (paths[1], "9" * 64), (paths[50], "1" * 64)], 7)
    cache.flush()
    base, recent = _tables(db_path, str(folder))
    assert recent is None
    recs = unpack(base)
    gen = {p: recs[os.fsencode(os.path.basename(p))][7] for p in (paths[0], paths[1], paths[50], paths[51])}
    assert gen == {paths[0]: 7, paths[1]: None, paths[50]: 7, paths[51]: None}, "only where the digest still holds"


def test_a_writer_that_died_mid_flush_leaves_the_rows_as_they_were(tmp_path):
    """A transaction cut off by SIGKILL (no COMMIT) is not seen: the next reader has the old rows."""
    db_path = str(tmp_path / "c" / "stat.db")
    folder = tmp_path / "d"
    paths = _files(folder, 100)
    cache = StatCache(db_path)
    _record(cache, paths, "1" * 64)
    _record(cache, paths[:2], "2" * 64)
    before = cache.row(str(folder))
    cache.close()
    code = f"""
import os, sys
sys.path[:0] = {sys.path!r}
from artvcs.plumbing.statcache import StatCache, RACY_NS, now_ns
c = StatCache({db_path!r})
db = c._conn()
db.execute("BEGIN IMMEDIATE")
db.execute("DELETE FROM recent")
db.execute("DELETE FROM folder")
os.kill(os.getpid(), 9)
"""
    p = subprocess.run([sys.executable, "-c", code])
    assert p.returncode == -9
    cache = StatCache(db_path)
    assert cache.row(str(folder)) == before


names = st.lists(st.binary(min_size=1, max_size=6).filter(lambda b: b"\0" not in b), max_size=12, unique=True)


def _fixed(i: int) -> tuple:
    return (1, i, 3, 4, 5, 6, None if i % 2 else 7, i, f"{i:064x}")


@settings(max_examples=200, deadline=None)
@given(names, names)
def test_overlay_is_the_merged_row(a, b):
    ra = {n: _fixed(i) for i, n in enumerate(a)}
    rb = {n: _fixed(100 + i) for i, n in enumerate(b)}
    got = overlay(pack(ra) if a else None, pack(rb) if b else None)
    if not a and not b:
        assert got is None
    else:
        assert got == pack({**ra, **rb})


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.binary(max_size=400)), st.one_of(st.none(), st.binary(max_size=400)))
def test_overlay_of_any_bytes_is_a_row_or_one_of_them(base, recent):
    got = overlay(base, recent)
    assert got in (base, recent) or len(split(got)[0]) == statcache.count(got)


def test_a_recent_row_whose_names_are_out_of_order_lays_nothing():
    base = pack({b"a": _fixed(1), b"c": _fixed(2)})
    good = pack({b"b": _fixed(3)})
    names, fixed = split(pack({b"b": _fixed(3), b"d": _fixed(4)}))
    unsorted = statcache.COUNT.pack(2) + fixed[FIXED.size:] + fixed[:FIXED.size] + b"d\0b\0"
    assert overlay(base, unsorted) == base
    assert sorted(unpack(overlay(base, good))) == [b"a", b"b", b"c"]


def test_a_large_flush_empties_the_sqlite_log_and_a_small_one_leaves_it(tmp_path, monkeypatch):
    """A process ending with os._exit never closes the cache, so whatever log a flush leaves is read
    whole by the next process that opens it: a first log's megabytes are folded in at once."""
    monkeypatch.setattr(statcache, "CHECKPOINT_BYTES", 100_000)  # 1,200 files, not 8,000
    db_path = str(tmp_path / "c" / "stat.db")
    wal = db_path + "-wal"
    paths = [p for d in range(12) for p in _files(tmp_path / f"d{d}", 100)]
    cache = StatCache(db_path)
    _record(cache, paths, "1" * 64)
    assert sum(map(len, (cache.row(str(tmp_path / f"d{d}")) for d in range(12)))) >= statcache.CHECKPOINT_BYTES
    assert os.path.getsize(wal) == 0, "the first log's rows are in the database, the log empty"
    _record(cache, paths[:3], "2" * 64)
    assert os.path.getsize(wal) > 0, "a few records stay in the log (sqlite folds it at 1000 pages)"
    cache.close()


def test_a_reader_in_the_way_leaves_the_log_and_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(statcache, "CHECKPOINT_BYTES", 100_000)
    db_path = str(tmp_path / "c" / "stat.db")
    paths = [p for d in range(12) for p in _files(tmp_path / f"d{d}", 100)]
    cache = StatCache(db_path)
    _record(cache, paths[:1], "1" * 64)
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM recent").fetchone() == (1,)  # holds a snapshot
    _record(cache, paths, "2" * 64)
    assert os.path.getsize(db_path + "-wal") > 0, "not emptied under a reader"
    recs = StatCache(db_path).load_prefix(str(tmp_path))
    assert all(StatCache.lookup(recs, p, os.stat(p)) == "2" * 64 for p in paths)
    reader.execute("COMMIT")
    reader.close()
    cache.close()


def test_a_base_row_whose_names_are_out_of_order_is_empty():
    """A base row with a repeated (or unsorted) name is read as empty, as a recent one is: else which
    record of the name is read would depend on the reader (scan.c's table takes the first)."""
    names, fixed = split(pack({b"b": _fixed(3), b"d": _fixed(4)}))
    unsorted = statcache.COUNT.pack(2) + fixed[FIXED.size:] + fixed[:FIXED.size] + b"d\0b\0"
    repeated = statcache.COUNT.pack(2) + fixed + b"b\0b\0"
    good = pack({b"c": _fixed(5)})
    for bad in (unsorted, repeated):
        assert split(bad) == ([], b"") and unpack(bad) == {}
        assert overlay(bad, good) == good, "the recent row over an empty base is the row"


def test_rows_below_reads_both_tables_without_a_transaction_of_its_own(tmp_path):
    """The connection is shared by threads (a Recorder flushes on its own): a BEGIN/COMMIT of
    rows_below's would land inside, or end, a flush's BEGIN IMMEDIATE."""
    db_path = str(tmp_path / "c" / "stat.db")
    paths = _files(tmp_path / "d", 40) + _files(tmp_path / "d" / "sub", 3)
    cache = StatCache(db_path)
    _record(cache, paths, "1" * 64)
    _record(cache, paths[:2] + paths[-1:], "2" * 64)  # a few: into recent rows
    assert _tables(db_path, str(tmp_path / "d"))[1] is not None
    said: list[str] = []
    cache._conn().set_trace_callback(said.append)
    try:
        rows = dict(cache.rows_below(str(tmp_path / "d")))
    finally:
        cache._conn().set_trace_callback(None)
    assert said and not [s for s in said if s.split()[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "END")], said
    assert rows == {f: cache.row(f) for f in (str(tmp_path / "d"), str(tmp_path / "d" / "sub"))}
    assert unpack(rows[str(tmp_path / "d")])[os.path.basename(paths[0]).encode()][-1] == "2" * 64


def test_rows_below_beside_a_flushing_thread_on_the_same_connection(tmp_path):
    """One thread flushes (BEGIN IMMEDIATE) while another reads rows_below, on the one shared
    connection, many times over: neither breaks the other's work, and nothing recorded is lost."""
    import threading

    paths = _files(tmp_path / "d", 30)
    cache = StatCache(str(tmp_path / "c" / "stat.db"))
    _record(cache, paths, "0" * 64)
    errors: list[BaseException] = []
    done = threading.Event()

    def reader():
        try:
            while not done.is_set():
                cache.rows_below(str(tmp_path / "d"))
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(1, 150):
            _record(cache, paths[i % 30 : i % 30 + 2], f"{i:064x}")
    except BaseException as e:
        errors.append(e)
    finally:
        done.set()
        t.join()
    assert not errors, errors
    got = unpack(cache.row(str(tmp_path / "d")))
    assert got[os.path.basename(paths[29]).encode()][-1] == f"{149:064x}"
