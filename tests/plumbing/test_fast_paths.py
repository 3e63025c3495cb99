"""The fast paths of logging and checkout give exactly what the careful ones give.

Speed is never asserted here: only that each shortcut (the one-clock racy
rule, copying and hashing large files in one overlapped pass, bulk checks of
paths and digests, reusing listing blobs) is as correct as the long way.
"""
from __future__ import annotations

import errno
import os
import threading

import blake3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import copyhash, manifest, paths
from artvcs.plumbing.errors import ArtvcsError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.repository import init_repository
from artvcs.plumbing.statcache import RACY_NS, StatCache, clean, fs_clock_ns, stat_key


@pytest.fixture
def repo(tmp_path):
    return init_repository(str(tmp_path / "proj"))


# -- the stat cache's racy rule -------------------------------------------------------
def test_one_clock_needs_a_strictly_older_stamp_other_clocks_a_second(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"x")
    key = stat_key(os.stat(f))
    stamp = max(key[3], key[4])
    dev = key[0]
    assert clean(key, stamp + 1, dev) and not clean(key, stamp, dev), "same clock: strictly older"
    assert not clean(key, stamp + 1, None) and not clean(key, stamp + 1, dev + 1), "other clocks keep the margin"
    assert clean(key, stamp + RACY_NS, None) and not clean(key, stamp + RACY_NS - 1, None)


def test_a_racy_record_is_not_written_and_a_same_tick_change_is_rehashed(repo, tmp_path):
    cache = repo.statcache
    clock_dir = os.path.dirname(cache.db_path)
    data = tmp_path / "proj" / "data"
    data.mkdir()
    f = data / "f.bin"
    f.write_bytes(b"one")
    st = os.stat(f)
    # hashing "began" at the file's own stamp: it could still change unseen in that tick
    cache.record(str(f), st, "d" * 64, max(st.st_mtime_ns, st.st_ctime_ns), st.st_dev)
    cache.flush()
    assert cache.load_prefix(str(data)) == {}
    now, dev = fs_clock_ns(clock_dir)
    assert dev == st.st_dev and now > max(st.st_mtime_ns, st.st_ctime_ns)
    cache.record(str(f), st, "d" * 64, now, dev)
    cache.flush()
    assert StatCache.lookup(cache.load_prefix(str(data)), str(f), os.stat(f)) == "d" * 64
    # the same size, mtime put back to the very nanosecond: ctime still moves, so it misses
    f.write_bytes(b"two")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(f).st_mtime_ns == st.st_mtime_ns
    assert StatCache.lookup(cache.load_prefix(str(data)), str(f), os.stat(f)) is None


@pytest.mark.parametrize("clock", ["same", "other", "local"])
def test_records_queued_in_bulk_are_the_records_queued_one_by_one(tmp_path, clock):
    """A checkout queues its new copies' records in bulk (record_written: stat results or the C
    batches' stat key tuples, packed by folder in one pass); the rows flushed are byte for byte
    those of record() per file, racy files left out alike, and merged with what a row held."""
    from types import SimpleNamespace

    data = tmp_path / "data"
    names = ["a.bin", "with space", "ünï", os.fsdecode(b"latin1-\xe9"), "racy"]
    paths_ = [str(data / sub / n) for sub in ("x", "y/z") for n in names]
    now = 1_700_000_000 * 10**9
    dev = {"same": 42, "other": 43, "local": None}[clock]
    # stamps from long ago to "now": the last ones of each folder are racy by one rule or the other
    ages = [5 * RACY_NS, 2 * RACY_NS, RACY_NS, RACY_NS - 1, 0] * 2
    stats = [SimpleNamespace(st_dev=42, st_ino=i + 1, st_size=10 * i, st_mtime_ns=now - age - 7, st_ctime_ns=now - age)
             for i, age in enumerate(ages)]
    rows = {}
    for how in ("one by one", "in bulk"):
        cache = StatCache(str(tmp_path / how / "stat.db"))
        cache.record(str(data / "x" / "kept-from-before"), stats[0], "e" * 64, now, dev)
        cache.flush()
        if how == "one by one":
            for p, st in zip(paths_, stats):
                cache.record(p, st, "d" * 64, now, dev)
        else:
            keys = [stat_key(st) if i % 2 else st for i, st in enumerate(stats)]  # both forms
            cache.record_written(zip(paths_, keys, ["d" * 64] * len(paths_)), now, dev)
        cache.flush()
        rows[how] = cache.rows_below(str(data))
        cache.close()
    assert rows["one by one"] == rows["in bulk"]
    held = {folder: len(statcache_split(row)[0]) for folder, row in rows["in bulk"]}
    assert held == {str(data / "x"): 5 if clock == "same" else 4, str(data / "y" / "z"): 4 if clock == "same" else 3}, \
        "the racy records are left out, and the row held before is merged, not replaced"


def statcache_split(row):
    from artvcs.plumbing.statcache import split

    return split(row)


def test_a_cache_of_one_row_per_file_from_an_earlier_version_is_dropped(tmp_path):
    """The cache is advisory: the one-row-per-file table of earlier versions is dropped, not
    converted, and its rows are never used (the files are hashed once more)."""
    import sqlite3

    db_path = tmp_path / "c" / "stat.db"
    db_path.parent.mkdir()
    f = tmp_path / "f"
    f.write_bytes(b"x")
    st = os.stat(f)
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE stat (path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER,"
               " mtime_ns INTEGER, ctime_ns INTEGER, digest TEXT, hashed_ns INTEGER)")
    stamp = max(st.st_mtime_ns, st.st_ctime_ns)
    db.execute("INSERT INTO stat VALUES (?,?,?,?,?,?,?,?)", (str(f), *stat_key(st), "d" * 64, stamp + 10**10))
    db.commit()
    db.close()
    cache = StatCache(str(db_path))
    recs = cache.load_prefix(str(tmp_path))
    assert StatCache.lookup(recs, str(f), st) is None and dict(recs) == {}
    cache.close()
    tables = [r[0] for r in sqlite3.connect(db_path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "stat" not in tables and "folder" in tables  # beside it, status's tables (FOLDER SUMS)


# -- one pass that copies and hashes -------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 64 * 1024 - 1, 64 * 1024, 3 * 64 * 1024 + 77])
@pytest.mark.parametrize("kernel_copy", [True, False])
def test_copy_and_hash_stores_the_right_digest(repo, tmp_path, monkeypatch, size, kernel_copy):
    monkeypatch.setattr(copyhash, "STEP", 64 * 1024)  # many steps, and a tail
    if not kernel_copy:
        def no_copy_file_range(*a, **k):
            raise OSError(errno.EXDEV, "cross-device")

        monkeypatch.setattr(os, "copy_file_range", no_copy_file_range)
    src = tmp_path / "big.bin"
    payload = os.urandom(size)
    src.write_bytes(payload)
    digest, n = repo.store.copy_in(str(src))
    assert (digest, n) == (blake3.blake3(payload).hexdigest(), size)
    assert repo.store.read(digest) == payload
    assert os.stat(repo.store.path_of(digest)).st_mode & 0o777 == 0o444
    assert repo.store.copy_in(str(src)) == (digest, size), "already stored: the copy is dropped"
    assert list(repo.store.iter_tmp()) == []


def test_a_large_file_changing_during_the_copy_never_poisons_the_store(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(copyhash, "STEP", 64 * 1024)
    src = tmp_path / "big.bin"
    src.write_bytes(b"a" * (5 * 64 * 1024))
    real = copyhash._copy_step
    calls = []

    def copy_then_edit(s, d, off):
        n = real(s, d, off)
        calls.append(n)
        if len(calls) == 2:
            with open(src, "r+b") as f:  # rewrite what was copied already and what is to come
                f.write(b"b" * (5 * 64 * 1024))
        return n

    monkeypatch.setattr(copyhash, "_copy_step", copy_then_edit)
    digest, size = repo.store.copy_in(str(src))
    repo.store.verify(digest)  # the name is the hash of the stored bytes, whatever the source did
    assert size == 5 * 64 * 1024


def test_a_failed_copy_step_stops_the_hash_thread_and_goes_up(tmp_path, monkeypatch):
    monkeypatch.setattr(copyhash, "STEP", 64 * 1024)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(5 * 64 * 1024))
    real, calls = copyhash._copy_step, []

    def fail_third(s, d, off):
        calls.append(off)
        if len(calls) == 3:
            raise OSError(errno.EIO, "disk gone")
        return real(s, d, off)

    monkeypatch.setattr(copyhash, "_copy_step", fail_third)
    before = threading.active_count()
    sfd = os.open(src, os.O_RDONLY)
    dfd = os.open(tmp_path / "out.bin", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with pytest.raises(OSError, match="disk gone"):
            copyhash.copy_and_hash(sfd, dfd, writeback=False)
    finally:
        os.close(sfd)
        os.close(dfd)
    assert threading.active_count() == before, "the hash thread was left running"


def test_the_hash_of_the_copy_is_of_what_the_copy_holds(tmp_path, monkeypatch):
    """HashBehind reads the written file back: bytes changed in it after the copy (as a disk or
    a bug could) change the digest, whatever the source held."""
    monkeypatch.setattr(copyhash, "STEP", 64 * 1024)
    payload = os.urandom(4 * 64 * 1024 + 3)
    src = tmp_path / "big.bin"
    src.write_bytes(payload)
    real = copyhash._copy_step

    def copy_then_damage(s, d, off):
        n = real(s, d, off)
        if off == 64 * 1024:
            os.pwrite(d, b"\0" * 10, off)  # the copy of this step differs from the source
        return n

    monkeypatch.setattr(copyhash, "_copy_step", copy_then_damage)
    sfd = os.open(src, os.O_RDONLY)
    dfd = os.open(tmp_path / "out.bin", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        digest, n = copyhash.copy_and_hash(sfd, dfd, writeback=False)
    finally:
        os.close(sfd)
        os.close(dfd)
    written = (tmp_path / "out.bin").read_bytes()
    assert n == len(payload) and written != payload
    assert digest == blake3.blake3(written).hexdigest() != blake3.blake3(payload).hexdigest()


def test_a_copy_not_open_for_reading_is_an_error_not_a_wrong_digest(tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024))
    sfd = os.open(src, os.O_RDONLY)
    dfd = os.open(tmp_path / "out.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with pytest.raises(OSError):
            copyhash.copy_and_hash(sfd, dfd, writeback=False)
    finally:
        os.close(sfd)
        os.close(dfd)


def test_preallocate_reserves_blocks_but_keeps_the_size(tmp_path):
    """A copy preallocated for more than its source holds ends at the bytes copied: no zeros."""
    path = tmp_path / "out.bin"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        copyhash.preallocate(fd, 8 * 1024 * 1024)
        st = os.fstat(fd)
        assert st.st_size == 0
        if st.st_blocks == 0:
            pytest.skip("this file system has no fallocate: nothing to reserve")
        assert st.st_blocks * 512 >= 8 * 1024 * 1024
        os.write(fd, b"abc")
    finally:
        os.close(fd)
    assert path.read_bytes() == b"abc"


def test_a_large_file_logged_through_the_binding_is_stored_whole(tmp_path, monkeypatch):
    import artvcs

    monkeypatch.setattr(copyhash, "STEP", 64 * 1024)
    monkeypatch.setattr("artvcs.plumbing.hashing.MMAP_THRESHOLD", 100 * 1024)
    monkeypatch.setattr("artvcs.draft.staging.MMAP_THRESHOLD", 100 * 1024)
    monkeypatch.setattr("artvcs.plumbing.store.MMAP_THRESHOLD", 100 * 1024)
    monkeypatch.chdir(tmp_path)
    init_repository(str(tmp_path))
    big = tmp_path / "data" / "big.bin"
    big.parent.mkdir()
    payload = os.urandom(300 * 1024 + 5)
    big.write_bytes(payload)
    a = artvcs.Artifact("big", "dataset")
    a.add_dir(str(big.parent))
    entry = a.manifest.entries["big.bin"]
    assert entry.digest == blake3.blake3(payload).hexdigest() and entry.size == len(payload)
    assert a._repo().store.read(entry.digest) == payload


# -- immutable: a file changed between its hash and its link ---------------------------------------
def test_immutable_file_changed_after_hashing_is_stored_as_hashed(tmp_path, monkeypatch):
    import artvcs
    from artvcs.plumbing.store import ContentStore

    monkeypatch.chdir(tmp_path)
    init_repository(str(tmp_path))
    data = tmp_path / "data"
    data.mkdir()
    f = data / "f.txt"
    f.write_bytes(b"as hashed")
    real = ContentStore.link_in

    def link_then_edit(self, path, digest, data=None):
        made = real(self, path, digest, data)
        with open(path, "wb") as out:  # the promise broken right after the link
            out.write(b"edited!!!")
        return made

    monkeypatch.setattr(ContentStore, "link_in", link_then_edit)
    a = artvcs.Artifact("imm", "dataset")
    a.add_dir(str(data), policy="immutable")
    e = a.manifest.entries["f.txt"]
    store = a._repo().store
    assert e.digest == blake3.blake3(b"as hashed").hexdigest()
    store.verify(e.digest)
    assert store.read(e.digest) == b"as hashed"
    assert os.stat(store.path_of(e.digest)).st_ino != os.stat(f).st_ino


# -- bulk checks of paths, digests and manifests ---------------------------------------------
segment = st.text(st.sampled_from(["a", "é", ".", "/", "\\", ":", "C", "\x01", "\n", " ", "~"]), min_size=0, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(segment, min_size=1, max_size=6))
def test_bulk_path_check_agrees_with_the_one_by_one_check(values):
    def one_by_one_ok():
        try:
            for v in values:
                paths.check_entry_path(v)
            return True
        except ArtvcsError:
            return False

    try:
        paths.check_entry_paths(values)
        bulk_ok = True
    except ArtvcsError:
        bulk_ok = False
    assert bulk_ok == one_by_one_ok()


_screened = st.lists(st.one_of(
    st.sampled_from(["a", ".", "/", "\\", ":", "C", "\x01", "\x1f", "\n", "\r", "g", "G", "i", "I", "t", "T", "~", "1",
                     "\u0131", "\u0130", "\u200c", "\ufeff", "é"]),
    st.sampled_from([".git", ".GIT", "GIT~1", ".g\u0131t", ".G\u0130T", ".gi\u200ct", "/./", "/../", "C:", "//"])),
    max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_screened)
def test_the_quick_path_screens_pass_on_whatever_the_regexes_find(joined):
    """check_entry_paths' substring screens may say "look closer" more often than the regexes
    they stand for, never less (where they say nothing, no path is checked one by one)."""
    if paths._ANY_BAD.search(joined):
        assert paths._any_bad(joined)
    if paths._SUSPECT.search(joined):
        assert paths.suspect(joined)


@settings(max_examples=300, deadline=None)
@given(st.lists(_screened, min_size=1, max_size=6))
def test_bulk_path_check_agrees_with_the_one_by_one_check_on_git_names(values):
    values = [v.replace("\n", "/") for v in values]  # one path each; "/" between its names
    try:
        for v in values:
            paths.check_entry_path(v)
        one_ok = True
    except ArtvcsError:
        one_ok = False
    try:
        paths.check_entry_paths(values)
        bulk_ok = True
    except ArtvcsError:
        bulk_ok = False
    assert bulk_ok == one_ok


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(segment, st.sampled_from(["ab" * 32, "AB" * 32, "ab" * 31, "", "x\ny"]),
                          st.sampled_from([0, 5, -1, None, True])), min_size=1, max_size=5))
def test_manifest_write_refuses_exactly_what_check_entry_refuses(tmp_path_factory, rows):
    repo = init_repository(str(tmp_path_factory.mktemp("m")))
    entries = [Entry(p, d, s) for p, d, s in rows]
    paths_ = [e.path for e in entries]

    def careful_ok():
        if len(set(paths_)) != len(paths_):
            return False
        try:
            for e in entries:
                manifest.check_entry(e)
        except ArtvcsError:
            return False
        folders = {p.rpartition("/")[0] for p in paths_}
        parents = {f for p in folders for f in [p[: i] for i in range(len(p) + 1) if i == len(p) or p[i] == "/"]}
        return not (parents & set(paths_))

    try:
        manifest.write_manifest(repo.git, entries)
        ok = True
    except ArtvcsError:
        ok = False
    assert ok == careful_ok()


def _digest_the_long_way(entries):
    h = blake3.blake3()
    for p, d in sorted((e.path.encode(), e.digest.encode()) for e in entries):
        h.update(p + b"\0" + d + b"\0")
    return h.hexdigest()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(st.sampled_from(["a", "b", "é", "/", "\u4e2d", "\U0001f600", " ", "~", "0"]), min_size=1, max_size=5),
                          st.sampled_from(["ab" * 32, "cd" * 32, "http://x"])), max_size=30, unique_by=lambda t: t[0]))
def test_manifest_digest_is_the_specified_one(rows):
    entries = [Entry(p, d, 1) for p, d in rows]
    assert manifest.manifest_digest(entries) == _digest_the_long_way(entries)


def test_reused_listing_blobs_give_the_tree_a_fresh_repository_builds(tmp_path):
    a = init_repository(str(tmp_path / "a"))
    b = init_repository(str(tmp_path / "b"))
    entries = [Entry(f"d{i % 7}/f{i}.bin", blake3.blake3(str(i).encode()).hexdigest(), i) for i in range(300)]
    first = manifest.write_manifest(a.git, entries)
    changed = entries[:-1] + [Entry(entries[-1].path, "ef" * 32, 1)]
    again = manifest.write_manifest(a.git, changed)  # six of seven listings exist already
    assert again == manifest.write_manifest(b.git, changed)
    assert first == manifest.write_manifest(b.git, entries)
    assert manifest.read_manifest(a.git, again) == {e.path: e for e in changed}


# -- trusting the stat cache for "this content is stored" ---------------------------------------
def test_the_sweep_generation_changes_around_every_sweep_and_says_nothing_during_one(tmp_path):
    from artvcs.plumbing import sweepgen

    cache = str(tmp_path / "cache")
    g = sweepgen.current(cache)
    assert g is not None and sweepgen.current(cache) == g, "a missing file becomes a number, then stays"
    with sweepgen.Sweeping(cache):
        assert sweepgen.current(cache) is None, "while gc sweeps nothing is vouched for"
    after = sweepgen.current(cache)
    assert after is not None and after != g
    with open(os.path.join(cache, sweepgen.FILENAME), "w") as f:
        f.write("sweeping\n")  # what a killed gc leaves
    fresh = sweepgen.current(cache)
    assert fresh is not None and fresh not in (g, after), "no gc holds the lock: a fresh number"
    os.unlink(os.path.join(cache, sweepgen.FILENAME))
    assert sweepgen.current(cache) not in (None, g, after, fresh), "never an old number again"


def test_a_record_is_confirmed_only_for_the_digest_it_holds(repo, tmp_path):
    cache = repo.statcache
    f = tmp_path / "f"
    f.write_bytes(b"x")
    now, dev = fs_clock_ns(os.path.dirname(cache.db_path))
    cache.record(str(f), os.stat(f), "a" * 64, now + 1, dev)
    cache.flush()
    cache.confirm([(str(f), "b" * 64)], 7)
    cache.flush()
    assert cache.load_prefix(str(tmp_path))[str(f)][4] is None
    cache.confirm([(str(f), "a" * 64)], 7)
    cache.flush()
    assert cache.load_prefix(str(tmp_path))[str(f)][4] == 7


def _stored_dir(tmp_path, monkeypatch):
    """A folder of three files, logged once (so the stat cache knows them, under a generation)."""
    import time

    import artvcs

    monkeypatch.chdir(tmp_path)
    repo = init_repository(str(tmp_path))
    data = tmp_path / "data"
    data.mkdir()
    for n in "abc":
        (data / f"{n}.txt").write_text(n * 10)
    time.sleep(0.05)  # a later clock tick than the files' stamps: not racily clean
    with artvcs.init(job_type="t") as run:
        run.log_artifact(_draft(data))
    return repo, data


def _draft(data, hook=None):
    import artvcs

    a = artvcs.Artifact("ds", "dataset")
    if hook is not None:
        real = a._hold_now

        def hold(digests):
            hook("before", digests)
            real(digests)
            hook("after", digests)

        a._hold_now = hold
    a.add_dir(str(data))
    return a


def _sweep_all(repo):
    """A real sweep that finds nothing reachable (every version deleted), grace 0."""
    from artvcs.plumbing import gc

    return gc.sweep(repo.store, repo.gitdir, set(), 0)


def test_unchanged_files_are_trusted_stored_under_the_generation_they_were_seen_in(tmp_path, monkeypatch):
    from artvcs.plumbing import sweepgen

    repo, data = _stored_dir(tmp_path, monkeypatch)
    gen = sweepgen.current(os.path.dirname(repo.statcache.db_path))
    records = repo.statcache.load_prefix(str(data))
    assert len(records) == 3 and {r[4] for r in records.values()} == {gen}
    a = _draft(data)
    assert sorted(e.digest for e in a.manifest.entries.values()) == sorted(r[1] for r in records.values())


def test_a_digest_gc_removed_is_stored_again_by_the_next_log(tmp_path, monkeypatch):
    import artvcs

    repo, data = _stored_dir(tmp_path, monkeypatch)
    removed = _sweep_all(repo).removed
    assert len(removed) == 3 and not any(repo.store.has(d) for d in removed)
    assert len(repo.statcache.load_prefix(str(data))) == 3, "the stat cache still knows the files"
    a = _draft(data)
    with artvcs.init(job_type="t") as run:
        run.log_artifact(a)
    for e in a.manifest.entries.values():
        repo.store.verify(e.digest)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_gc_during_a_log_never_removes_what_the_new_version_names(tmp_path, monkeypatch, when):
    """gc sweeps right before the draft lists what it trusted (it removes it: the log stores it
    again) or right after (the draft list protects it)."""
    import artvcs

    repo, data = _stored_dir(tmp_path, monkeypatch)
    swept = []

    def hook(moment, digests):
        if moment == when and not swept:
            swept.append(_sweep_all(repo))

    a = _draft(data, hook)
    with artvcs.init(job_type="t") as run:
        run.log_artifact(a)
    digests = {e.digest for e in a.manifest.entries.values()}
    assert len(digests) == 3
    removed = set(swept[0].removed)
    assert removed == (digests if when == "before" else set())
    for d in digests:
        repo.store.verify(d)


def test_content_deleted_by_hand_is_stored_again_once_fsck_has_seen_it_missing(tmp_path, monkeypatch):
    """Outside gc's protocol the stat cache keeps vouching; fsck finding the hole starts a new generation."""
    import artvcs
    from artvcs.plumbing.fsck import fsck

    repo, data = _stored_dir(tmp_path, monkeypatch)
    digest = next(iter(repo.statcache.load_prefix(str(data)).values()))[1]
    path = repo.store.path_of(digest)
    os.chmod(path, 0o644)
    os.unlink(path)
    assert [p.kind for p in fsck(repo)] == ["missing-content"]
    a = _draft(data)
    with artvcs.init(job_type="t") as run:
        run.log_artifact(a)
    repo.store.verify(digest)
    assert fsck(repo) == []


# -- immutable and skip_cache staging split over a forked child ------------------------------
def _split_dir(tmp_path, monkeypatch):
    """40 small files and one large one (sorted last: in the child's half), older than now."""
    import time

    from artvcs.draft import staging

    monkeypatch.setattr(staging, "FORK_MIN", 8)
    for mod in ("artvcs.plumbing.hashing", "artvcs.draft.staging", "artvcs.plumbing.store"):
        monkeypatch.setattr(f"{mod}.MMAP_THRESHOLD", 100 * 1024)
    monkeypatch.chdir(tmp_path)
    repo = init_repository(str(tmp_path))
    data = tmp_path / "data"
    data.mkdir()
    payloads = {f"f{i:02d}.bin": os.urandom(100 + i) for i in range(40)}
    payloads["zz-big.bin"] = os.urandom(200 * 1024)
    for name, b in payloads.items():
        (data / name).write_bytes(b)
    time.sleep(0.05)  # a later clock tick than the files' stamps: records are not racy
    forks: list[int] = []
    real_fork = os.fork

    def fork():
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)
    return repo, data, payloads, forks


@pytest.mark.parametrize("policy,skip_cache", [("immutable", False), ("mutable", True)])
def test_staging_split_over_a_forked_child_gives_what_one_process_gives(tmp_path, monkeypatch, policy, skip_cache):
    import threading

    import artvcs

    repo, data, payloads, forks = _split_dir(tmp_path, monkeypatch)
    assert threading.active_count() == 1  # the split is used only by a single-threaded caller
    a = artvcs.Artifact("split", "dataset")
    a.add_dir(str(data), policy=policy, skip_cache=skip_cache)
    assert forks == [1]
    entries = a.manifest.entries
    assert {n: (e.digest, e.size) for n, e in entries.items()} == {
        n: (blake3.blake3(b).hexdigest(), len(b)) for n, b in payloads.items()}
    records = StatCache(repo.statcache.db_path).load_prefix(str(data))
    if skip_cache:
        # hashed only: every file has its record, the child's half too, and nothing is stored yet
        assert {os.path.basename(p): r[1] for p, r in records.items()} == {n: e.digest for n, e in entries.items()}
        assert not any(repo.store.has(e.digest) for e in entries.values())
    else:
        # linked: the store holds each file itself (same inode); a new link moved ctime, so no record
        for n, e in entries.items():
            assert os.stat(repo.store.path_of(e.digest)).st_ino == os.stat(data / n).st_ino
        assert records == {}
    with artvcs.init(job_type="t") as run:
        run.log_artifact(a)
    for e in entries.values():
        repo.store.verify(e.digest)


def test_a_failed_child_leaves_its_half_to_the_parent(tmp_path, monkeypatch):
    import artvcs
    from artvcs.draft import staging

    repo, data, payloads, forks = _split_dir(tmp_path, monkeypatch)

    def fail(*args):
        raise OSError(errno.EIO, "simulated failure in the child")

    monkeypatch.setattr(staging, "_child_stage", fail)
    a = artvcs.Artifact("split", "dataset")
    a.add_dir(str(data), policy="immutable")
    assert forks == [1]
    assert {n: e.digest for n, e in a.manifest.entries.items()} == {
        n: blake3.blake3(b).hexdigest() for n, b in payloads.items()}
    for e in a.manifest.entries.values():
        repo.store.verify(e.digest)


def test_the_split_copes_with_sigchld_ignored(tmp_path, monkeypatch):
    import signal

    import artvcs

    repo, data, payloads, forks = _split_dir(tmp_path, monkeypatch)
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel: no waitpid
    try:
        a = artvcs.Artifact("split", "dataset")
        a.add_dir(str(data), policy="immutable")
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert forks == [1]
    assert {n: e.digest for n, e in a.manifest.entries.items()} == {
        n: blake3.blake3(b).hexdigest() for n, b in payloads.items()}


def test_an_interrupt_while_the_hash_finishes_stops_the_hash_thread_first(tmp_path, monkeypatch):
    """Ctrl-C while the copy waits for its hash to finish: the interrupt goes up only once the hash
    thread has stopped, so it never maps the copy's fd after the caller closed it."""
    import signal
    import time
    from types import SimpleNamespace

    busy = []  # a span being hashed (its thread's work: it maps the copy's fd)

    class SlowHash:  # the hash falls well behind the copy, so the copy waits in finish()
        def __init__(self):
            self.h = blake3.blake3()

        def update(self, data):
            busy.append(1)
            time.sleep(0.3)
            self.h.update(data)
            busy.pop()

        def hexdigest(self):
            return self.h.hexdigest()

    monkeypatch.setattr(copyhash, "STEP", 64 * 1024)
    monkeypatch.setattr(copyhash, "blake3", SimpleNamespace(blake3=SlowHash))
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(4 * 64 * 1024))

    def interrupt(*_):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    sfd = os.open(src, os.O_RDONLY)
    dfd = os.open(tmp_path / "out.bin", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            copyhash.copy_and_hash(sfd, dfd, writeback=False)
        hashing = len(busy)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        os.close(sfd)
        os.close(dfd)
    assert hashing == 0, "the hash thread was still hashing when the interrupt reached the caller"
