"""Large files in the local store: content-defined chunks, chunk lists, verified reassembly, gc."""
from __future__ import annotations

import errno
import os
import random
import subprocess
import sys
import threading
import time

import blake3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunking, chunklist, chunkstore, formatrecord, repository
from artvcs.plumbing.checkout import materialize
from artvcs.plumbing.errors import CorruptObjectError, FormatVersionError, ObjectMissingError
from artvcs.plumbing.gc import sweep
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.store import CHUNK_THRESHOLD

MiB = 1 << 20


def _data(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def _put(repo, tmp_path, data: bytes, name: str = "big.bin") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    digest, size = repo.store.put_file(str(path), chunked=True)
    assert digest == blake3.blake3(data).hexdigest() and size == len(data)
    return digest


def _stored_files(repo) -> set[str]:
    """Every file of the content store and of the chunk packs."""
    folder = chunkstore.packs_dir(repo.store)
    return set(repo.store.iter_digests()) | set(os.listdir(folder) if os.path.isdir(folder) else ())


# -- chunking -------------------------------------------------------------------------------------
def test_block_wise_cuts_equal_one_pass_over_the_file(tmp_path):
    data = _data(3 * chunking.BLOCK + 12345)
    (tmp_path / "f").write_bytes(data)
    fd = os.open(tmp_path / "f", os.O_RDONLY)
    try:
        cuts = []
        base = 0
        for view, block_cuts in chunking.iter_blocks(fd):
            cuts += [(base + off, n) for off, n in block_cuts]
            base += block_cuts[-1][0] + block_cuts[-1][1]
    finally:
        os.close(fd)
    whole = [(c.offset, c.length) for c in chunking.chunker().cut_buf(data)]
    assert cuts == whole and sum(n for _, n in cuts) == len(data)
    assert max(n for _, n in cuts) <= chunking.MAX_SIZE


def test_a_failing_stage_stops_the_write_with_its_error_and_leaves_no_list(repo, tmp_path, monkeypatch):
    """The pack writer fails (a file-size limit: write(2) refuses past 4 MiB) while the reader has many
    blocks to go: the write ends with that error, the reader stops early, every stage's thread ends,
    no list is written, and without the limit the same file is stored whole."""
    import resource

    monkeypatch.setattr(chunking, "BLOCK", 1 * MiB)  # many blocks after the failure
    data = _data(40 * MiB, 5)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    threads = threading.active_count()
    fd = os.open(path, os.O_RDONLY)
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 * MiB, limit[1]))  # (Python ignores SIGXFSZ: EFBIG)
    try:
        with pytest.raises(OSError) as e:
            chunkstore.store_chunked(repo.store, fd)
        read = os.lseek(fd, 0, os.SEEK_CUR)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limit)
        os.close(fd)
    assert e.value.errno == errno.EFBIG
    assert read < len(data)  # the reader stopped once a stage had failed
    assert threading.active_count() == threads
    assert list(chunkstore.iter_lists(repo.store)) == []
    assert _put(repo, tmp_path, data) == blake3.blake3(data).hexdigest()


def test_an_insertion_moves_only_nearby_chunks(repo, tmp_path):
    data = _data(12 * MiB)
    d1 = _put(repo, tmp_path, data)
    edited = data[: 6 * MiB] + b"inserted bytes" + data[6 * MiB:]
    d2 = _put(repo, tmp_path, edited)
    a = {c for c, _ in chunkstore.read_list(repo.store, d1).chunks}
    b = chunkstore.read_list(repo.store, d2).chunks
    new = [(c, n) for c, n in b if c not in a]
    assert sum(n for _, n in new) <= 3 * chunking.MAX_SIZE  # the chunk it fell in, perhaps a neighbour
    with repo.store.open(d2) as f:
        assert f.read() == edited


# -- the store ------------------------------------------------------------------------------------
def test_large_files_are_chunked_small_ones_stay_whole_and_the_format_rises(repo, tmp_path):
    fmt = os.path.join(repo.gitdir, repository.FORMAT_FILE)
    small = _put(repo, tmp_path, _data(CHUNK_THRESHOLD - 1), "small")
    assert os.path.isfile(repo.store.path_of(small)) and not repo.store.is_chunked(small)
    assert open(fmt).read() == "artvcs-format 1\n"
    data = _data(CHUNK_THRESHOLD + 1)
    big = _put(repo, tmp_path, data)
    assert repo.store.is_chunked(big) and repo.store.has(big) and not os.path.exists(repo.store.path_of(big))
    assert repo.store.size(big) == len(data)
    assert open(fmt).read() == "artvcs-format 2\n"
    with repo.store.open(big) as f:
        assert f.read() == data
    repo.store.verify(big)


def test_equal_files_share_one_list_and_no_chunk_is_written_twice(repo, tmp_path):
    data = _data(9 * MiB)
    d = _put(repo, tmp_path, data, "a")
    before = _stored_files(repo)
    lists = list(chunkstore.iter_lists(repo.store))
    assert _put(repo, tmp_path, data, "b") == d
    assert _stored_files(repo) == before and list(chunkstore.iter_lists(repo.store)) == lists == [d]


def test_an_older_artvcs_refuses_a_repository_with_chunks(repo, tmp_path, monkeypatch):
    _put(repo, tmp_path, _data(CHUNK_THRESHOLD))
    monkeypatch.setattr(formatrecord, "FORMAT_VERSION", 1)  # what an artvcs of format 1 implements
    with pytest.raises(FormatVersionError, match="uses artvcs format 2, newer than this artvcs understands \\(1\\): upgrade"):
        repository.Repository(repo.gitdir)


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove", "swap"])
def test_a_bad_chunk_is_an_error_naming_file_and_chunk_never_wrong_bytes(repo, tmp_path, damage):
    data = _data(6 * MiB)
    d = _put(repo, tmp_path, data)
    lst = chunkstore.read_list(repo.store, d)
    c, n = lst.chunks[3]
    packs = chunkstore.local_packs(repo.store)
    loc = packs.where[c]
    pack = packs.path(loc.pack)
    packs.close()
    os.chmod(pack, 0o644)
    index = 4
    if damage == "flip":
        with open(pack, "r+b") as f:
            f.seek(loc.offset + n // 2)
            byte = f.read(1)
            f.seek(loc.offset + n // 2)
            f.write(bytes([byte[0] ^ 1]))
    elif damage == "truncate":
        os.truncate(pack, loc.offset + n - 1)
    elif damage == "remove":  # the pack's index gone: none of its chunks is stored any more
        os.unlink(pack[: -len(".pack")] + ".idx")
        c, index = lst.chunks[0][0], 1
    else:  # a list whose chunks are all genuine but out of order
        rows = list(lst.chunks)
        rows[3], rows[4] = rows[4], rows[3]
        bad = chunklist.ChunkList(d, lst.size, tuple(rows)).encode()
        lp = repo.store.list_path(d)
        os.chmod(lp, 0o644)
        open(lp, "wb").write(bad)
    kind = ObjectMissingError if damage == "remove" else CorruptObjectError
    named = f"content {d}: chunk {index} of {len(lst.chunks)} \\({c}" if damage != "swap" else f"content {d}"
    with pytest.raises(kind, match=named):
        with repo.store.open(d) as f:
            while f.read(MiB):
                pass
    with pytest.raises(kind, match=named):
        repo.store.verify(d)
    out = tmp_path / "out"
    with pytest.raises(kind, match=f"'big.bin': {named}"):
        materialize(repo.store, [Entry("big.bin", d, len(data))], str(out), mode="copy")
    assert os.listdir(out) == []  # nothing wrong left under the target's name, no temporary either


def test_checkout_rebuilds_chunked_files_in_every_mode_and_then_finds_them_current(repo, tmp_path):
    data = _data(5 * MiB)
    d = _put(repo, tmp_path, data)
    small = repo.store.put_bytes(b"small\n")
    entries = [Entry("big.bin", d, len(data)), Entry("s.txt", small, 6)]
    for mode in ("copy", "hardlink", "symlink", "auto"):
        out = tmp_path / f"out-{mode}"
        r = materialize(repo.store, entries, str(out), mode=mode, statcache=repo.statcache)
        assert r.written == 2
        assert (out / "big.bin").read_bytes() == data and not os.path.islink(out / "big.bin")
        assert (out / "s.txt").read_bytes() == b"small\n"
        again = materialize(repo.store, entries, str(out), mode=mode, statcache=repo.statcache)
        assert again.written == 0 and again.up_to_date == 2
    out = tmp_path / "out-copy"
    (out / "big.bin").write_bytes(data[:-1] + b"!")  # replaced by a rename over it
    r = materialize(repo.store, entries, str(out), mode="copy", statcache=repo.statcache, protect_untracked=False)
    assert r.written == 1 and (out / "big.bin").read_bytes() == data


def test_cat_object_streams_a_chunked_file(repo_dir, run_cli, tmp_path):
    data = _data(5 * MiB)
    (tmp_path / "big.bin").write_bytes(data)
    r = run_cli("hash-object", "-w", str(tmp_path / "big.bin"))
    assert r.code == 0, r.err
    digest = r.out.split("\t")[0].strip()
    p = subprocess.run([os.path.join(os.path.dirname(sys.executable), "artvcs"), "cat-object", digest], capture_output=True)
    assert p.returncode == 0 and p.stdout == data


# -- gc -------------------------------------------------------------------------------------------
def test_gc_keeps_chunks_a_live_list_shares_and_removes_the_rest(repo, tmp_path, monkeypatch):
    from artvcs.plumbing import chunkpacks

    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)  # many small packs: some die whole
    monkeypatch.setattr(chunking, "BLOCK", 1 * MiB)  # (a pack closes between runs of new chunks)
    data = _data(8 * MiB)
    d1 = _put(repo, tmp_path, data)
    d2 = _put(repo, tmp_path, data[: 3 * MiB] + _data(3 * MiB, 9) + data[6 * MiB:])  # 3 MiB rewritten
    c1 = {c for c, _ in chunkstore.read_list(repo.store, d1).chunks}
    c2 = {c for c, _ in chunkstore.read_list(repo.store, d2).chunks}
    assert c1 & c2 and c1 - c2
    packs = chunkstore.local_packs(repo.store)
    dead = {n for n, rows in packs.packs.items() if not any(c in c2 for c, _ in rows)}
    packs.close()
    assert dead
    assert sweep(repo.store, repo.gitdir, {d2}, grace_seconds=3600).removed == []  # young: kept
    result = sweep(repo.store, repo.gitdir, {d2}, grace_seconds=0)
    assert d1 in result.removed and not repo.store.has(d1)
    gone = {r[len("chunks/"):] for r in result.removed if r != d1}
    assert dead <= gone  # wholly dead packs go; partly dead ones may be rewritten (test_chunk_gc)
    after = chunkstore.local_packs(repo.store)
    assert not set(after.packs) & gone and c2 <= set(after.where)
    after.close()
    with repo.store.open(d2) as f:
        assert blake3.blake3(f.read()).hexdigest() == d2


# -- conversion from whole to chunks --------------------------------------------------------------
def _whole(repo, tmp_path, data: bytes, name: str = "w.bin") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    digest, _ = repo.store.put_file(str(path))
    assert os.path.isfile(repo.store.path_of(digest)) and not repo.store.is_chunked(digest)
    return digest


def test_a_large_file_is_stored_whole_and_converted_readable_at_every_step(repo, tmp_path):
    data = _data(9 * MiB, 4)
    d = _whole(repo, tmp_path, data)
    assert open(os.path.join(repo.gitdir, repository.FORMAT_FILE)).read() == "artvcs-format 1\n"
    held = repo.store.open(d)  # a reader that has the whole file open keeps reading it
    assert repo.store.convert_to_chunks(d)
    assert repo.store.is_chunked(d) and not os.path.exists(repo.store.path_of(d))
    assert open(os.path.join(repo.gitdir, repository.FORMAT_FILE)).read() == "artvcs-format 2\n"
    assert held.read() == data
    held.close()
    assert repo.store.has(d) and repo.store.size(d) == len(data)
    with repo.store.open(d) as f:  # one that opens it now reads the chunks
        assert f.read() == data
    repo.store.verify(d)
    assert not repo.store.convert_to_chunks(d)  # nothing left to convert
    small = _whole(repo, tmp_path, _data(CHUNK_THRESHOLD - 1, 5), "s")
    assert not repo.store.convert_to_chunks(small) and os.path.isfile(repo.store.path_of(small))


def test_both_forms_at_once_read_alike_gc_keeps_or_removes_both_and_convert_finishes(repo, tmp_path):
    data = _data(6 * MiB, 6)
    d = _whole(repo, tmp_path, data)
    fd = os.open(repo.store.path_of(d), os.O_RDONLY)
    try:  # a conversion killed between its list and its unlink
        chunkstore.store_chunked(repo.store, fd, expect=d)
    finally:
        os.close(fd)
    assert repo.store.is_chunked(d) and os.path.isfile(repo.store.path_of(d))
    for f in (open(repo.store.path_of(d), "rb"), chunkstore.open_chunked(repo.store, d)):
        with f:
            assert f.read() == data
    repo.store.verify(d)
    sweep(repo.store, repo.gitdir, {d}, grace_seconds=0)  # live: both forms stay
    assert os.path.isfile(repo.store.path_of(d)) and repo.store.is_chunked(d)
    repo.store.verify(d)
    chunkstore.verify_chunked(repo.store, d)
    assert repo.store.convert_to_chunks(d)  # only the unlink was left
    assert not os.path.exists(repo.store.path_of(d))
    repo.store.verify(d)
    e = _whole(repo, tmp_path, _data(5 * MiB, 7), "e")
    fd = os.open(repo.store.path_of(e), os.O_RDONLY)
    try:
        chunkstore.store_chunked(repo.store, fd, expect=e)
    finally:
        os.close(fd)
    result = sweep(repo.store, repo.gitdir, {d}, grace_seconds=0)  # dead: both forms go
    assert e in result.removed and not repo.store.has(e) and not os.path.exists(repo.store.path_of(e))
    repo.store.verify(d)


def test_two_conversions_of_one_file_at_once_leave_it_chunked_and_readable(repo, tmp_path):
    data = _data(6 * MiB, 12)
    d = _whole(repo, tmp_path, data)
    got, errors = [], []

    def convert() -> None:
        try:
            got.append(repo.store.convert_to_chunks(d))
        except BaseException as e:  # raised below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and True in got
    assert repo.store.is_chunked(d) and not os.path.exists(repo.store.path_of(d))
    with repo.store.open(d) as f:
        assert f.read() == data


def test_a_damaged_whole_file_is_not_converted(repo, tmp_path):
    d = _whole(repo, tmp_path, _data(5 * MiB, 8))
    path = repo.store.path_of(d)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(1000)
        f.write(b"rot")
    with pytest.raises(CorruptObjectError, match=f"content {d} is corrupt .*not converted to chunks"):
        repo.store.convert_to_chunks(d)
    assert os.path.isfile(path) and not repo.store.is_chunked(d)  # no list names bytes that are not d


def test_checkout_copies_a_whole_large_file_in_every_mode(repo, tmp_path):
    data = _data(5 * MiB, 10)
    d = _whole(repo, tmp_path, data)
    for mode in ("copy", "hardlink", "symlink", "auto"):
        out = tmp_path / f"out-{mode}"
        materialize(repo.store, [Entry("big.bin", d, len(data))], str(out), mode=mode)
        st = os.lstat(out / "big.bin")
        assert not os.path.islink(out / "big.bin") and st.st_nlink == 1, mode  # never a link: it may be converted
        assert (out / "big.bin").read_bytes() == data
    repo.store.convert_to_chunks(d)
    assert (tmp_path / "out-symlink" / "big.bin").read_bytes() == data


def test_a_checkout_that_finds_the_whole_file_converted_meanwhile_reads_its_chunks(repo, tmp_path, monkeypatch):
    from artvcs.plumbing import checkout

    data = _data(5 * MiB, 11)
    d = _whole(repo, tmp_path, data)
    real = checkout.place

    def converted_first(*args, **kw):  # another process converts it between the plan and the copy
        repo.store.convert_to_chunks(d)
        return real(*args, **kw)

    monkeypatch.setattr(checkout, "place", converted_first)
    materialize(repo.store, [Entry("big.bin", d, len(data))], str(tmp_path / "out"), mode="copy")
    assert (tmp_path / "out" / "big.bin").read_bytes() == data and repo.store.is_chunked(d)


# -- concurrency ----------------------------------------------------------------------------------
def test_concurrent_writers_of_overlapping_large_files(repo, tmp_path):
    base = _data(10 * MiB)
    variants = [base[: k * MiB] + bytes([k]) * 1000 + base[k * MiB:] for k in range(1, 5)]
    for k, v in enumerate(variants):
        (tmp_path / f"v{k}").write_bytes(v)
    got: dict[int, str] = {}
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for _ in range(2):
                got[k] = repo.store.put_file(str(tmp_path / f"v{k}"), chunked=True)[0]
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, v in enumerate(variants):
        assert got[k] == blake3.blake3(v).hexdigest()
        repo.store.verify(got[k])


# -- hostile chunk lists --------------------------------------------------------------------------
D = "ab" * 32


def test_parse_refuses_lists_that_lie():
    good = chunklist.ChunkList(D, 10, (("cd" * 32, 4), ("ef" * 32, 6)))
    assert chunklist.parse(good.encode(), D, 10) == good
    bad = {
        "sizes that lie": chunklist.ChunkList(D, 11, good.chunks).encode(),
        "another file": good.encode().replace(D.encode(), b"aa" * 32, 1),
        "itself as a chunk": chunklist.ChunkList(D, 10, ((D, 4), ("ef" * 32, 6))).encode(),
        "huge count": f"artvcs-chunks 1 {D} 10 999999999\n".encode(),
        "count above size": chunklist.ChunkList(D, 1, (("cd" * 32, 1), ("ef" * 32, 0))).encode(),
        "trailing bytes": good.encode() + b"x",
        "leading zero": good.encode().replace(b" 4\n", b" 04\n"),
        "oversized chunk": chunklist.ChunkList(D, chunklist.MAX_CHUNK + 1, (("cd" * 32, chunklist.MAX_CHUNK + 1),)).encode(),
    }
    for what, data in bad.items():
        with pytest.raises(CorruptObjectError):
            chunklist.parse(data, D, None if what == "sizes that lie" else None)
    with pytest.raises(CorruptObjectError, match="not 9"):
        chunklist.parse(good.encode(), D, 9)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(alphabet="artvcs-chunks 0123456789abcdef\n", max_size=400).map(str.encode))
def test_fuzz_parse_raises_only_corrupt_object(data):
    try:
        lst = chunklist.parse(data, D)
    except CorruptObjectError:
        return
    assert lst.encode() == data and sum(n for _, n in lst.chunks) == lst.size


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["cd" * 32, "ef" * 32, "01" * 32]), st.integers(1, 1 << 20)), min_size=1, max_size=30),
       st.integers(0, 200), st.binary(max_size=3))
def test_fuzz_mutated_lists(chunks, cut, junk):
    good = chunklist.ChunkList(D, sum(n for _, n in chunks), tuple(chunks)).encode()
    assert chunklist.parse(good, D).encode() == good
    mutated = good[:cut] + junk + good[cut + len(junk):]
    try:
        lst = chunklist.parse(mutated, D)
    except CorruptObjectError:
        return
    assert lst.encode() == mutated


# -- crash safety ---------------------------------------------------------------------------------
WRITER = """
import os, random, sys
from artvcs.plumbing.repository import Repository
repo = Repository(sys.argv[1])
rnd = random.Random(int(sys.argv[2]))
base = rnd.randbytes(6 << 20)
print("ready", flush=True)
i = 0
while True:
    at = rnd.randrange(len(base))
    data = base[:at] + rnd.randbytes(70000) + base[at:]
    path = os.path.join(sys.argv[3], f"f{i % 3}")
    with open(path, "wb") as f:
        f.write(data)
    repo.store.put_file(path, chunked=True)
    i += 1
"""


def test_sigkill_while_storing_large_files_leaves_every_list_whole(repo, tmp_path):
    import signal
    import time

    rnd = random.Random(3)
    work = tmp_path / "work"
    work.mkdir()
    lists_seen = 0
    for round_ in range(6):
        p = subprocess.Popen([sys.executable, "-c", WRITER, repo.gitdir, str(round_), str(work)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.1, 1.0))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        lists = list(chunkstore.iter_lists(repo.store))
        for d in lists:  # a list present means all its chunks are, and they rebuild its name
            repo.store.verify(d)
        lists_seen = len(lists)
    assert lists_seen > 0, "the writer should have stored something"
    assert open(os.path.join(repo.gitdir, repository.FORMAT_FILE)).read() == "artvcs-format 2\n"
    sweep(repo.store, repo.gitdir, set(lists), grace_seconds=0)  # temporaries and orphans go, lists stay
    for d in lists:
        repo.store.verify(d)
    assert list(repo.store.iter_tmp()) == [] and list(chunkstore.iter_list_tmp(repo.store)) == []


# -- hostile pack indexes -------------------------------------------------------------------------
def _idx_variants():
    from artvcs.plumbing import chunkpacks

    rows = st.lists(st.tuples(st.sampled_from(["cd" * 32, "ef" * 32]), st.integers(1, 1 << 20)), min_size=1, max_size=20)
    return rows.map(chunkpacks.encode_idx)


@settings(max_examples=200, deadline=None)
@given(_idx_variants(), st.integers(0, 200), st.binary(max_size=3), st.booleans())
def test_fuzz_pack_index_raises_only_corrupt_object(good, cut, junk, rename):
    from artvcs.plumbing import chunkpacks

    name = chunkpacks.idx_name(good)
    assert chunkpacks.encode_idx(chunkpacks.parse_idx(good, name)) == good
    mutated = good[:cut] + junk + good[cut + len(junk):]
    try:
        rows = chunkpacks.parse_idx(mutated, chunkpacks.idx_name(mutated) if rename else name)
    except CorruptObjectError:
        return
    assert chunkpacks.encode_idx(rows) == mutated  # only a canonical index named by its own hash passes


def test_a_rebuilt_chunked_file_is_recorded_by_its_stat_after_the_rename(repo, tmp_path, monkeypatch):
    """A chunked file is written under a temporary name and renamed (which changes its ctime): its
    stat-cache record is of the renamed file, so the next checkout takes it as current by its stat,
    without hashing its chunks' worth of bytes again."""
    from artvcs.plumbing import checkplan, checkrecord
    from artvcs.plumbing.statcache import StatCache

    data = _data(5 * MiB, 12)
    entries = [Entry("big.bin", _put(repo, tmp_path, data), len(data))]
    out = tmp_path / "out"
    real_clock = checkrecord.fs_clock_ns
    # the clock read a few ticks after the copy: it is not racy, so it is recorded
    monkeypatch.setattr(checkrecord, "fs_clock_ns", lambda d: (time.sleep(0.05), real_clock(d))[1])
    assert materialize(repo.store, entries, str(out), mode="copy", statcache=repo.statcache).written == 1
    target = str(out / "big.bin")
    assert StatCache.lookup(repo.statcache.load_prefix(str(out)), target, os.lstat(target)) == entries[0].digest
    hashed: list[str] = []
    real_hash = checkplan.hash_file
    monkeypatch.setattr(checkplan, "hash_file", lambda p: (hashed.append(p), real_hash(p))[1])
    again = materialize(repo.store, entries, str(out), mode="copy", statcache=repo.statcache)
    assert (again.written, again.up_to_date, hashed) == (0, 1, [])


def test_a_crash_mid_copy_of_an_unverified_large_file_leaves_nothing_under_its_name(repo, tmp_path):
    """--no-verify copies a large file under a temporary name and renames it once whole, as a
    verified copy does: a process killed mid-copy leaves no partial file under the final name."""
    import signal
    import textwrap

    data = _data(5 * MiB, 13)
    d = _whole(repo, tmp_path, data)
    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        import resource, signal
        from artvcs.plumbing import checkout
        from artvcs.plumbing.manifest import Entry
        from artvcs.plumbing.repository import Repository

        repo = Repository({os.path.join(repo.worktree, ".artifacts")!r})
        # killed by the kernel at the write past 1 MiB (SIGXFSZ, which Python ignores unless told): no clean-up runs
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, ({MiB}, {MiB}))
        checkout.materialize(repo.store, [Entry("big.bin", {d!r}, {len(data)})], {str(out)!r}, mode="copy", verify=False)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == -signal.SIGXFSZ, run.stderr
    left = os.listdir(out)
    assert "big.bin" not in left and all(n.startswith(".artvcs-tmp-") for n in left), left
    materialize(repo.store, [Entry("big.bin", d, len(data))], str(out), mode="copy", verify=False)
    assert (out / "big.bin").read_bytes() == data
