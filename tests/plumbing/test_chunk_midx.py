"""The multi-pack index (chunks/multi-pack-index): written by readers and writers of chunks and by gc,
read in place, and never trusted over the pack indexes it caches."""
from __future__ import annotations

import os

import blake3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunkmidx, chunkpacks, chunkstore
from artvcs.plumbing.errors import CorruptObjectError, ObjectMissingError
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.gc import sweep
from test_chunks import _data, _put

MiB = 1 << 20


def _folder(repo) -> str:
    return chunkstore.packs_dir(repo.store)


def _pack_rows(repo) -> dict[str, list[tuple[str, int]]]:
    """Every pack's rows, read from the pack indexes themselves."""
    packs = chunkpacks.LocalPacks(_folder(repo), shared_lock=False, every_index=True)
    try:
        return dict(packs.packs.items())
    finally:
        packs.close()


def _assert_index_matches_packs(repo) -> chunkmidx.MultiPackIndex:
    """The index names exactly the packs present, and maps every chunk to a pack row that holds it."""
    rows = _pack_rows(repo)
    midx = chunkmidx.open_index(_folder(repo))
    assert midx is not None and set(midx.names) == set(rows)
    chunks = {d for r in rows.values() for d, _ in r}
    assert set(midx) == chunks and midx.count == len(chunks)
    for d in chunks:
        pack, row = midx.find(d)
        assert rows[pack][row][0] == d
    assert list(midx) == sorted(midx)
    return midx


def _reads(monkeypatch) -> list[str]:
    """The pack indexes LocalPacks reads from now on (the real reads, recorded)."""
    seen: list[str] = []
    real = chunkpacks.LocalPacks._read

    def read(self, name):
        if name not in self.packs.read:
            seen.append(name)
        return real(self, name)

    monkeypatch.setattr(chunkpacks.LocalPacks, "_read", read)
    return seen


def _readable(repo, digest: str, tmp_path) -> None:
    with repo.store.open(digest) as f:
        assert blake3.blake3(f.read()).hexdigest() == digest
    out = tmp_path / "out.bin"
    with open(out, "w+b") as f:
        chunkstore.write_chunked(repo.store, digest, f.fileno())
    assert blake3.blake3(out.read_bytes()).hexdigest() == digest
    out.unlink()


def test_a_chunked_log_writes_an_index_of_every_chunk(repo, tmp_path, small_packs):
    d = _put(repo, tmp_path, _data(6 * MiB))
    assert len(_pack_rows(repo)) >= 3
    midx = _assert_index_matches_packs(repo)
    assert midx.find("00" * 32) is None and midx.find("ff" * 32) is None
    midx.close()
    _readable(repo, d, tmp_path)


def test_a_read_through_the_index_reads_only_the_pack_indexes_of_its_file(repo, tmp_path, small_packs, monkeypatch):
    monkeypatch.setattr(chunkpacks, "FOLD_AT", 1)  # every pack in the index, however many each file makes
    files = [_put(repo, tmp_path, _data(5 * MiB, seed), f"f{seed}") for seed in range(4)]
    _assert_index_matches_packs(repo).close()
    own = {}
    for d in files:
        own[d] = {p for p, rows in _pack_rows(repo).items() if {c for c, _ in rows} & set(chunkstore.chunk_digests(repo.store, d))}
    seen = _reads(monkeypatch)
    packs = chunkstore.local_packs(repo.store)
    assert seen == [] and packs.where.midx is not None  # opening read no pack index
    packs.close()
    _readable(repo, files[2], tmp_path)
    assert set(seen) == own[files[2]] and len(own[files[2]]) < len(_pack_rows(repo)) // 2


def test_packs_newer_than_the_index_are_read_and_folded_in_at_fold_at(repo, tmp_path, small_packs, monkeypatch):
    monkeypatch.setattr(chunkpacks, "FOLD_AT", 3)
    _put(repo, tmp_path, _data(5 * MiB, 1), "a")
    first = set(_assert_index_matches_packs(repo).names)
    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 64 * MiB)  # one pack per file from here
    late = []
    for seed in range(2, 5):
        late.append(_put(repo, tmp_path, _data(4 * MiB + seed, seed), f"s{seed}"))
        midx = chunkmidx.open_index(_folder(repo))
        outside = set(_pack_rows(repo)) - set(midx.names)
        assert len(outside) == (seed - 1 if seed < 4 else 0)  # folded once three were outside
        for d in late:
            _readable(repo, d, tmp_path)  # the packs outside are found too
        midx.close()
    assert set(_assert_index_matches_packs(repo).names) > first


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "foreign"])
def test_a_torn_or_damaged_index_is_ignored_and_rebuilt(repo, tmp_path, small_packs, damage):
    d = _put(repo, tmp_path, _data(4 * MiB))
    path = os.path.join(_folder(repo), chunkmidx.FILENAME)
    raw = bytearray(open(path, "rb").read())
    if damage == "flip":
        raw[len(raw) // 2] ^= 1
    elif damage == "truncate":
        raw = raw[:len(raw) - 7]
    elif damage == "empty":
        raw = bytearray()
    else:
        raw = bytearray(b"artvcs-chunkpack 1 1\n" + raw[21:])
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        f.write(raw)
    with pytest.raises(CorruptObjectError, match=r"multi-pack-index .*ignored"):
        chunkmidx.open_index(_folder(repo))
    (problem,) = fsck(repo)
    assert problem.kind == "bad-chunk-index" and "ignored; artvcs gc writes it anew" in problem.message
    _readable(repo, d, tmp_path)
    _assert_index_matches_packs(repo).close()


def test_an_index_naming_a_pack_that_is_gone_falls_back_to_the_pack_indexes(repo, tmp_path, small_packs, monkeypatch):
    d = _put(repo, tmp_path, _data(5 * MiB))
    rows = _pack_rows(repo)
    gone = "ab" * 20
    data = chunkmidx.encode([(gone, [("00" * 32, 5)])] + sorted(rows.items()))
    chunkmidx.write(_folder(repo), data)
    seen = _reads(monkeypatch)
    packs = chunkstore.local_packs(repo.store)
    assert packs.where.midx is None and set(seen) == set(rows)  # every pack index read, as without one
    packs.close()
    assert gone not in _assert_index_matches_packs(repo).names  # rebuilt without it
    _readable(repo, d, tmp_path)


@pytest.mark.parametrize("lie", ["other pack", "other row", "outside its tables", "omits"])
def test_an_index_that_lies_is_not_trusted_over_the_packs(repo, tmp_path, small_packs, lie):
    """An index whole and checksummed, but wrong: reads come out right (each pack's own index says
    where a chunk is), the index is distrusted and rebuilt; fsck names it."""
    d = _put(repo, tmp_path, _data(5 * MiB))
    _put(repo, tmp_path, _data(5 * MiB, 9), "other")
    rows = sorted(_pack_rows(repo).items())
    lst = chunkstore.read_list(repo.store, d)
    home = next(p for p, r in rows if any(c == lst.chunks[len(lst.chunks) // 2][0] for c, _ in r))
    victim = dict(rows)[home][0][0]  # the first row of a pack of the file
    if lie == "omits":
        forged = [(p, [(c, n) for c, n in r if c != victim]) for p, r in rows]
    elif lie == "other pack":  # listed first in a pack that does not hold it
        other = next(p for p, _ in rows if p != home)
        forged = [(p, ([(victim, 1)] if p == other else []) + r) for p, r in rows]
    else:  # listed last in its own pack
        forged = [(p, r[1:] + r[:1] if p == home else r) for p, r in rows]
    data = bytearray(chunkmidx.encode(forged))
    if lie == "outside its tables":  # and its record names a row past its pack's count
        midx = chunkmidx.MultiPackIndex(bytes(data))
        at = midx._places + list(midx).index(victim) * chunkmidx._PLACE.size
        data[at:at + chunkmidx._PLACE.size] = chunkmidx._PLACE.pack(0, 1 << 20)
        data[-32:] = blake3.blake3(bytes(data[:-32])).digest()
    chunkmidx.write(_folder(repo), bytes(data))
    (problem,) = [p for p in fsck(repo) if p.kind == "bad-chunk-index"]
    assert problem.object.endswith("chunks/multi-pack-index")
    if lie == "omits":  # a record left out makes a lookup miss (a chunk written again); gc rebuilds it
        packs = chunkstore.local_packs(repo.store)
        assert victim not in packs.where
        packs.close()
        sweep(repo.store, repo.gitdir, {d}, grace_seconds=0)
    else:
        packs = chunkstore.local_packs(repo.store)
        assert packs.where[victim].pack == home and packs.where.distrusted
        packs.close()  # rebuilt here
        chunkmidx.write(_folder(repo), bytes(data))
        _readable(repo, d, tmp_path)  # a stream and a checkout through the lie come out right
    _assert_index_matches_packs(repo).close()
    assert not [p for p in fsck(repo) if p.kind == "bad-chunk-index"]
    _readable(repo, d, tmp_path)


def _partly_dead(repo, tmp_path) -> str:
    """A file stored, then a second version with every other 256 KiB rewritten, and the first one's
    list removed: gc rewrites the packs they share. The second version's digest."""
    v1 = _data(6 * MiB, 4)
    d1 = _put(repo, tmp_path, v1, "v1")
    v2 = bytearray(v1)
    for off in range(0, len(v2), 512 * 1024):
        v2[off:off + 256 * 1024] = _data(256 * 1024, off + 7)
    d2 = _put(repo, tmp_path, bytes(v2), "v2")
    os.unlink(repo.store.list_path(d1))
    return d2


def test_gc_rewrites_packs_then_the_index_of_those_that_stay(repo, tmp_path, small_packs):
    d2 = _partly_dead(repo, tmp_path)
    before = set(_pack_rows(repo))
    result = sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)
    assert result.rewritten_packs and set(_pack_rows(repo)) != before
    _assert_index_matches_packs(repo).close()
    _readable(repo, d2, tmp_path)


# -- the parser, fuzzed ---------------------------------------------------------------------------
def _sample() -> bytes:
    rows = [(blake3.blake3(bytes([9, j])).hexdigest(), 100 + j) for j in range(20)]
    return chunkmidx.encode([(f"{i:040x}", [(blake3.blake3(bytes([i, j])).hexdigest(), 100 + j) for j in range(20)])
                             for i in range(3)] + [("ee" * 20, rows[:1])])


SAMPLE = _sample()
PROBES = [blake3.blake3(bytes([i, j])).hexdigest() for i in range(3) for j in range(0, 20, 3)] + ["00" * 32, "ff" * 32]


def _probe(data: bytes) -> None:
    try:
        midx = chunkmidx.MultiPackIndex(data)
    except CorruptObjectError:
        return
    for d in PROBES:
        try:
            at = midx.find(d)
        except CorruptObjectError:
            continue
        assert at is None or (at[0] in midx.names and 0 <= at[1] < midx.rows[midx.names.index(at[0])])
    for i in range(min(midx.count, 50)):
        assert len(midx.digest(i)) == 64


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SAMPLE) - 1), st.binary(min_size=1, max_size=16), st.booleans(), st.integers(0, 64))
def test_fuzz_a_damaged_index_gives_only_artvcs_errors(at, junk, resum, cut):
    data = bytearray(SAMPLE[:at] + junk + SAMPLE[at + len(junk):])
    data = data[:len(data) - cut] if cut < 8 else data
    if resum and len(data) > 32:  # past the checksum: the fields themselves are fuzzed
        data[-32:] = blake3.blake3(bytes(data[:-32])).digest()
    _probe(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300_000))
def test_fuzz_arbitrary_bytes_give_only_artvcs_errors(data):
    _probe(data)


def test_the_sample_index_parses_and_finds_what_it_holds():
    midx = chunkmidx.MultiPackIndex(SAMPLE)
    assert midx.count == 61 and len(midx.names) == 4
    assert midx.find(PROBES[0]) == (f"{0:040x}", 0) and midx.find("00" * 32) is None


WRITER = """
import os, random, sys
import blake3
from artvcs.plumbing import chunking, chunkpacks
chunkpacks.PACK_BYTES = chunking.BLOCK = 1 << 20
chunkpacks.FOLD_AT = 1  # every close that sees a pack outside the index rewrites it: the most contention
from artvcs.plumbing.repository import Repository
repo = Repository(sys.argv[1])
seed = int(sys.argv[2])
for i in range(3):
    path = os.path.join(sys.argv[3], f"w{seed}-{i}")
    with open(path, "wb") as f:
        f.write(random.Random(seed * 100 + i).randbytes((4 << 20) + i))
    d, _ = repo.store.put_file(path, chunked=True)
    with repo.store.open(d) as f:
        assert blake3.blake3(f.read()).hexdigest() == d
    print(d, flush=True)
"""


def test_writers_and_readers_at_once_rewrite_the_index_without_losing_a_chunk(repo, tmp_path, small_packs, monkeypatch):
    """Three processes store chunked files and read them back at once, each rewriting the index whenever
    a pack is outside it, while this one reads: every file reads back, and the index ends up whole."""
    import subprocess
    import sys

    first = _put(repo, tmp_path, _data(5 * MiB, 77), "first")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, repo.gitdir, str(k), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True) for k in range(3)]
    reads = 0
    while any(p.poll() is None for p in procs):
        _readable(repo, first, tmp_path)
        reads += 1
    written = []
    for p in procs:
        out, _ = p.communicate()
        assert p.returncode == 0
        written += out.split()
    assert len(written) == 9 and reads
    monkeypatch.setattr(chunkpacks, "FOLD_AT", 1)
    for d in written + [first]:
        _readable(repo, d, tmp_path)
    _assert_index_matches_packs(repo).close()
    assert [p for p in fsck(repo) if p.kind == "bad-chunk-index"] == []


def test_threads_looking_up_chunks_at_once_never_miss_one(tmp_path):
    """Readers look chunks up from several threads (a push's uploads): a thread that finds a pack's
    index being read by another waits for it whole, instead of missing the chunk (a race this
    test caught: hundreds of misses in 30 rounds, 17 a round)."""
    import random
    import threading

    folder, packs = _fake_packs(tmp_path, 40, 500)
    rnd = random.Random(1)
    chunkmidx.write(folder, chunkmidx.encode(sorted(packs.items())))
    digests = [d for rows in packs.values() for d, _ in rows]
    for _ in range(10):
        local = chunkpacks.LocalPacks(folder)
        rnd.shuffle(digests)
        missed: list[str] = []

        def look(part: list[str]) -> None:
            missed.extend(d for d in part if local.where.place(d) is None)

        threads = [threading.Thread(target=look, args=(digests[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert missed == [] and not local.where.distrusted
        local.close()


REWRITER = """
import sys
from artvcs.plumbing import chunkpacks
folder = sys.argv[1]
print("ready", flush=True)
while True:  # rewrite the index again and again, from every pack index (a distrusted index's rebuild)
    packs = chunkpacks.LocalPacks(folder)
    packs.where._distrust()
    packs.close()
"""


def test_sigkill_while_the_index_is_written_leaves_the_old_one_or_the_new_one_whole(repo, tmp_path, small_packs):
    import random
    import signal
    import subprocess
    import sys
    import time

    d = _put(repo, tmp_path, _data(6 * MiB, 5))
    folder = _folder(repo)
    rnd = random.Random(4)
    for _ in range(6):
        p = subprocess.Popen([sys.executable, "-c", REWRITER, folder], stdout=subprocess.PIPE, text=True)
        with p.stdout:
            assert p.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.0, 0.3))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        _assert_index_matches_packs(repo).close()  # never torn: a reader finds a whole index
    _readable(repo, d, tmp_path)  # (a killed writer's .tmp- file is gc's, as any in chunks/)


def _fake_packs(tmp_path, count: int, rows_each: int, seed: int = 1) -> tuple[str, dict[str, list[tuple[str, int]]]]:
    """``count`` real pack indexes (each over a pack file of the right size) of random chunk digests."""
    import random

    folder = str(tmp_path / "chunks")
    os.makedirs(folder, exist_ok=True)
    rnd = random.Random(seed)
    packs = {}
    for _ in range(count):
        rows = [(rnd.randbytes(32).hex(), 10) for _ in range(rows_each)]
        data = chunkpacks.encode_idx(rows)
        name = chunkpacks.idx_name(data)
        with open(os.path.join(folder, f"{name}.pack"), "wb") as f:
            f.truncate(10 * rows_each)
        with open(os.path.join(folder, f"{name}.idx"), "wb") as f:
            f.write(data)
        packs[name] = rows
    return folder, packs


def test_threads_looking_up_chunks_while_another_distrusts_the_index_never_miss_one(tmp_path):
    """One thread finds a lie in the index (and so reads every pack index) while others look chunks up:
    none of them is told a chunk of a covered pack is absent (the index was once dropped before the
    pack indexes were read: a push's parallel reads then failed on a chunk that is there)."""
    import random
    import threading

    folder, packs = _fake_packs(tmp_path, 60, 500, seed=2)
    names = sorted(packs)
    victim = packs[names[0]][0][0]
    forged = [(n, packs[n][1:] + packs[n][:1] if n == names[0] else packs[n]) for n in names]  # victim's row wrong
    digests = [d for n in names for d, _ in packs[n] if d != victim]
    rnd = random.Random(3)
    for _ in range(10):
        chunkmidx.write(folder, chunkmidx.encode(forged))
        local = chunkpacks.LocalPacks(folder)
        assert local.midx is not None
        rnd.shuffle(digests)
        missed: list[str] = []
        start = threading.Barrier(9)

        def look(part: list[str]) -> None:
            start.wait()
            missed.extend(d for d in part if local.where.place(d) is None)

        def lie() -> None:
            start.wait()
            assert local.where.place(victim) is not None

        threads = [threading.Thread(target=look, args=(digests[i::8],)) for i in range(8)]
        threads.append(threading.Thread(target=lie))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert missed == [] and local.where.distrusted
        local.close()


def _lock_is_free(folder: str) -> bool:
    with chunkpacks.exclusive(folder, 0) as taken:
        return taken


def test_a_close_whose_fold_fails_still_releases_the_lock_the_map_and_the_packs(tmp_path, monkeypatch):
    """A Ctrl-C while the multi-pack index is written (any error fold does not catch) leaves no shared
    lock held (a gc would wait for it until this process ends), no map and no pack open."""
    folder, packs = _fake_packs(tmp_path, 3, 20)
    chunkmidx.write(folder, chunkmidx.encode(sorted(packs.items())[:2]))  # the third pack outside
    local = chunkpacks.LocalPacks(folder)
    assert local.midx is not None and not _lock_is_free(folder)
    fd = local.fd(sorted(packs)[0])
    local.where._distrust()  # so close rewrites the index

    def interrupted(folder, pieces):
        raise KeyboardInterrupt

    monkeypatch.setattr(chunkmidx, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        local.close()
    with pytest.raises(OSError):
        os.fstat(fd)  # (before the lock file is opened again, which could take its number)
    assert _lock_is_free(folder) and local.midx is None and local._fds == {}


def test_a_pack_index_that_cannot_be_read_leaves_no_lock_held(tmp_path):
    folder, packs = _fake_packs(tmp_path, 2, 20)
    bad = "ab" * 20
    os.mkdir(os.path.join(folder, f"{bad}.idx"))  # opening it is an OSError other than 'not found'
    with pytest.raises(IsADirectoryError):
        chunkpacks.LocalPacks(folder)
    assert _lock_is_free(folder)


def test_an_index_whose_fanout_goes_backwards_is_refused_when_opened():
    """Checksum and counts right, the fanout out of order: refused at once (it used to open, answer
    lookups, and make every later fold of it fail)."""
    midx = chunkmidx.MultiPackIndex(SAMPLE)
    fan = midx._digests - chunkmidx.FANOUT * 4
    data = bytearray(SAMPLE)
    data[fan + 4 * 10:fan + 4 * 11] = (midx.count).to_bytes(4, "little")  # entry 10 above entry 11
    data[-32:] = blake3.blake3(bytes(data[:-32])).digest()
    with pytest.raises(CorruptObjectError, match="not in order"):
        chunkmidx.MultiPackIndex(bytes(data))



def test_find_answers_absent_for_anything_not_a_lowercase_digest(tmp_path):
    """Not 64 lowercase hex ('', 'ab', 'zz', uppercase): absent, no IndexError or ValueError, and no
    distrust of a sound index (an uppercase digest once found a record its pack's rows lacked)."""
    midx = chunkmidx.MultiPackIndex(SAMPLE)
    held = PROBES[0]
    bad = ["", "ab", "zz", "z" * 64, held.upper(), held[:-1] + "G", held + "0", " " + held[1:]]
    assert midx.find(held) is not None
    assert [b for b in bad if midx.find(b) is not None] == []
    folder, packs = _fake_packs(tmp_path, 2, 20)
    chunkmidx.write(folder, chunkmidx.encode(sorted(packs.items())))
    local = chunkpacks.LocalPacks(folder)
    d = next(iter(packs.values()))[0][0]
    assert [b for b in ["", "ab", "zz", d.upper()] if b in local.where or local.where.get(b)] == []
    assert d in local.where and not local.where.distrusted and local.where.midx is not None
    local.close()


def test_an_index_written_while_a_reader_lists_the_packs_is_kept_not_rewritten_with_fewer(tmp_path, monkeypatch):
    """Another process installs a pack and an index covering it just after this reader lists the packs
    folder: the reader keeps the index it opened (it used to list first, find the newer index naming
    a pack not listed, throw it away and overwrite it on close with one lacking that pack)."""
    folder, packs = _fake_packs(tmp_path, 3, 20)
    chunkmidx.write(folder, chunkmidx.encode(sorted(packs.items())[:2]))
    real = chunkpacks.LocalPacks.names
    late: list[str] = []

    def names(self):
        listed = list(real(self))
        if not late:  # the other process, between this reader's listing and what follows it
            writer = chunkpacks.PackWriter(folder)
            data = b"late chunk"
            writer.add(blake3.blake3(data).hexdigest(), data)
            writer.close()
            (name, rows), = writer.installed
            late.append(name)
            chunkmidx.write(folder, chunkmidx.encode(sorted(packs.items()) + [(name, rows)]))
        return iter(listed)

    monkeypatch.setattr(chunkpacks.LocalPacks, "names", names)
    local = chunkpacks.LocalPacks(folder)
    assert local.midx is not None and not local._missing_midx
    local.close()
    monkeypatch.setattr(chunkpacks.LocalPacks, "names", real)
    midx = chunkmidx.open_index(folder)
    assert late[0] in midx.names and set(packs) <= set(midx.names)
    midx.close()


GC = """
import sys
from artvcs.plumbing.gc import sweep
from artvcs.plumbing.repository import Repository
repo = Repository(sys.argv[1])
print(sweep(repo.store, repo.gitdir, {sys.argv[2]}, grace_seconds=0).rewritten_packs, flush=True)
"""


def test_fsck_beside_a_gc_that_rewrites_packs_reports_no_bad_index(repo, tmp_path, small_packs, monkeypatch):
    """A gc that removes packs and rewrites the index just as fsck opens the index: fsck holds the chunk
    lock before it opens it, so it compares one index with the packs it names (it used to open the
    index first and then read a pack set the gc had changed: a false bad-chunk-index)."""
    import subprocess
    import sys

    d2 = _partly_dead(repo, tmp_path)
    before = set(_pack_rows(repo))
    real = chunkmidx.open_index
    gc: list = []

    def open_index(folder):
        midx = real(folder)
        if not gc and sys._getframe(1).f_code.co_name == "_check_chunk_index":
            gc.append(subprocess.Popen([sys.executable, "-c", GC, repo.gitdir, d2], stdout=subprocess.PIPE, text=True))
            try:
                gc[0].wait(5)  # before the fix it finished here; now it waits for fsck's shared lock
            except subprocess.TimeoutExpired:
                pass
        return midx

    monkeypatch.setattr(chunkmidx, "open_index", open_index)
    problems = [p for p in fsck(repo) if p.kind == "bad-chunk-index"]
    out, _ = gc[0].communicate(timeout=120)
    assert gc[0].returncode == 0 and int(out) > 0 and set(_pack_rows(repo)) != before
    assert problems == []
    monkeypatch.setattr(chunkmidx, "open_index", real)
    _assert_index_matches_packs(repo).close()
    _readable(repo, d2, tmp_path)


def test_a_read_of_a_chunk_the_index_leaves_out_reads_the_pack_indexes_before_it_reports_it_missing(
        repo, tmp_path, small_packs):
    """A checksum-valid index that omits a chunk of a file: a stream, a checkout and a check of the file
    each find the chunk in its pack's index (read on that error path only) instead of reporting it
    missing, and the index is rewritten whole; a chunk that is truly absent is still reported."""
    d = _put(repo, tmp_path, _data(5 * MiB))
    rows = sorted(_pack_rows(repo).items())
    lst = chunkstore.read_list(repo.store, d)
    home = next(p for p, r in rows if any(c == lst.chunks[len(lst.chunks) // 2][0] for c, _ in r))
    # the first of the file's rows in a pack of the file (a filler may come before): looked up before its pack is read
    victim = next(c for c, n in dict(rows)[home] if c != chunkpacks.filler(n)[0])
    forged = chunkmidx.encode([(p, [(c, n) for c, n in r if c != victim]) for p, r in rows])
    out = tmp_path / "out.bin"

    def stream() -> None:
        with repo.store.open(d) as f:
            assert blake3.blake3(f.read()).hexdigest() == d

    def checkout() -> None:
        with open(out, "w+b") as f:
            chunkstore.write_chunked(repo.store, d, f.fileno())
        assert blake3.blake3(out.read_bytes()).hexdigest() == d

    for read in (stream, checkout, lambda: chunkstore.check_chunks(repo.store, d)):
        chunkmidx.write(_folder(repo), forged)
        read()
        _assert_index_matches_packs(repo).close()  # rewritten, with the chunk
    os.chmod(os.path.join(_folder(repo), f"{home}.idx"), 0o644)
    with open(os.path.join(_folder(repo), f"{home}.idx"), "r+b") as f:  # its pack index damaged: truly gone
        f.write(b"x")
    chunkmidx.write(_folder(repo), forged)
    with pytest.raises(ObjectMissingError, match=victim[:16]):
        chunkstore.check_chunks(repo.store, d)
