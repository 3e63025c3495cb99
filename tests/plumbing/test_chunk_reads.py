"""Reading chunked files back: the fast row check of lists and pack indexes, runs of neighbouring
chunks, and a checkout that puts a file under its name only once its bytes hashed to its digest."""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from itertools import accumulate

import blake3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunking, chunklist, chunkpacks, chunkstore
from artvcs.plumbing.checkout import materialize
from artvcs.plumbing.errors import CorruptObjectError
from artvcs.plumbing.manifest import Entry

from test_chunks import _data, _put

MiB = 1 << 20
DIGESTS = ["cd" * 32, "ef" * 32, "01" * 32, "9a" * 32]


# -- the row check in C against a regular expression of the same rows --------------------------
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(DIGESTS), st.integers(1, 999_999_999)), min_size=1, max_size=25),
       st.integers(0, 400), st.binary(max_size=4), st.integers(-1, 1))
def test_the_fast_row_check_accepts_exactly_the_canonical_rows(rows, cut, junk, miscount):
    body = "".join(f"{d} {n}\n" for d, n in rows)
    count = len(rows) + miscount
    assert chunklist.canonical_rows(body, len(rows)) == ([d for d, _ in rows], [n for _, n in rows])
    mutated = (body.encode()[:cut] + junk + body.encode()[cut + len(junk):]).decode("latin-1")
    if not mutated.isascii():
        return  # the parsers refuse non-ASCII before any row is looked at
    canonical = re.fullmatch(r"(?:[0-9a-f]{64} [1-9][0-9]{0,8}\n)" + f"{{{max(count, 0)}}}", mutated)
    got = chunklist.canonical_rows(mutated, max(count, 0))
    if canonical is None:
        assert got is None
    else:
        pairs = re.findall(r"([0-9a-f]{64}) ([0-9]+)\n", mutated)
        assert got == ([d for d, _ in pairs], [int(n) for _, n in pairs])


def test_a_long_list_and_its_pack_indexes_parse_to_what_was_written(repo, tmp_path):
    data = _data(24 * MiB)
    d = _put(repo, tmp_path, data)
    with open(repo.store.list_path(d), "rb") as f:
        raw = f.read()
    lst = chunklist.parse(raw, d, len(data))
    assert lst.encode() == raw and len(lst.chunks) > 200
    packs = chunkstore.local_packs(repo.store)
    try:
        for name, rows in packs.packs.items():
            with open(packs.path(name, "idx"), "rb") as f:
                assert chunkpacks.encode_idx(rows) == f.read()
            for off, (c, n) in zip(packs.where.offsets(name), rows):
                assert packs.where[c] == chunkpacks.Location(name, off, n) and packs.where.get(c).size == n
        assert set(packs.where) == {c for c, _ in lst.chunks} and len(packs.where) == len(set(lst.chunks))
        assert packs.where.get("00" * 32) is None and "00" * 32 not in packs.where
    finally:
        packs.close()


# -- runs -----------------------------------------------------------------------------------------
def test_runs_cover_the_file_with_no_two_that_could_be_one(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)  # many packs, and a second version spread over them
    monkeypatch.setattr(chunking, "BLOCK", 1 * MiB)
    v1 = _data(8 * MiB)
    _put(repo, tmp_path, v1)
    v2 = v1[: 2 * MiB] + _data(1 * MiB, 5) + v1[3 * MiB: 6 * MiB] + _data(3000, 6) + v1[6 * MiB:]
    d2 = _put(repo, tmp_path, v2)
    lst = chunkstore.read_list(repo.store, d2)
    packs = chunkstore.local_packs(repo.store)
    try:
        runs = list(chunkstore._runs(packs, lst))
        rebuilt = b"".join(os.pread(packs.fd(p), n, off) for p, off, n, _ in runs)
        assert rebuilt == v2
        firsts = [first for *_, first in runs]
        assert firsts[0] == 0 and firsts == sorted(firsts) and len(runs) < len(lst.chunks)
        for (p, off, n, _), (q, off2, _, _) in zip(runs, runs[1:]):
            assert not (p == q and off + n == off2)  # neighbours in one pack would have been one run
    finally:
        packs.close()
    out = tmp_path / "out"
    r = materialize(repo.store, [Entry("big.bin", d2, len(v2))], str(out), mode="copy")
    assert r.written == 1 and (out / "big.bin").read_bytes() == v2


def test_a_chunk_of_another_size_in_its_pack_is_named_and_nothing_is_written(repo, tmp_path):
    data = _data(6 * MiB)
    d = _put(repo, tmp_path, data)
    lst = chunkstore.read_list(repo.store, d)
    rows = list(lst.chunks)
    i = next(k for k in range(1, len(rows)) if rows[k][1] != rows[k - 1][1])
    (a, n), (b, m) = rows[i - 1], rows[i]
    rows[i - 1], rows[i] = (a, m), (b, n)  # sizes swapped: the total still adds up
    path = repo.store.list_path(d)
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        f.write(chunklist.ChunkList(d, lst.size, tuple(rows)).encode())
    out = tmp_path / "out"
    with pytest.raises(CorruptObjectError, match=f"'big.bin': content {d}: chunk {i} of {len(rows)} \\({a}, {m} bytes\\) "
                                                 f"is {n} bytes in pack"):
        materialize(repo.store, [Entry("big.bin", d, len(data))], str(out), mode="copy")
    assert os.listdir(out) == []


def rot_last_chunk(repo, digest: str) -> str:
    """Flip the last byte of the last chunk of the chunked file ``digest`` in its pack (found bad
    only once everything else was copied); that chunk's digest."""
    c, n = chunkstore.read_list(repo.store, digest).chunks[-1]
    packs = chunkstore.local_packs(repo.store)
    loc = packs.where[c]
    pack = packs.path(loc.pack)
    packs.close()
    os.chmod(pack, 0o644)
    with open(pack, "r+b") as f:
        f.seek(loc.offset + n - 1)
        last = f.read(1)
        f.seek(loc.offset + n - 1)
        f.write(bytes([last[0] ^ 0x80]))
    return c


def test_a_mismatch_found_at_the_end_names_the_chunk_and_renames_nothing(repo, tmp_path):
    data = _data(6 * MiB)
    d = _put(repo, tmp_path, data)
    lst = chunkstore.read_list(repo.store, d)
    c = rot_last_chunk(repo, d)
    target = tmp_path / "big.bin"
    target.write_bytes(b"the old version\n")
    tmp = str(tmp_path / ".artvcs-tmp-x")
    with pytest.raises(CorruptObjectError, match=f"chunk {len(lst.chunks)} of {len(lst.chunks)} \\({c}"):
        chunkstore.place_chunked(repo.store, d, str(target), tmp)
    assert target.read_bytes() == b"the old version\n" and not os.path.exists(tmp)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_bad_chunk_inside_a_spliced_run_is_named_and_the_rest_checks_out(repo, tmp_path, monkeypatch, damage):
    """Small packs: runs start mid-page in their pack and go through copyhash.RangeCopier's spliced
    rounds. A good file comes out whole; a flipped byte deep in such a run, or its pack cut short
    there (the splice comes up short), names its chunk."""
    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)
    monkeypatch.setattr(chunking, "BLOCK", 1 * MiB)
    monkeypatch.setattr(chunkpacks, "FILL_MIN_RUN", 1 << 40)  # no fillers: packs as written before them
    data = _data(6 * MiB, 11)
    d = _put(repo, tmp_path, data)
    lst = chunkstore.read_list(repo.store, d)
    packs = chunkstore.local_packs(repo.store)
    try:
        runs, off = [], 0
        for run in chunkstore._runs(packs, lst):
            runs.append((run, off))
            off += run[2]
        (pack, start, length, first), at = next((r, o) for r, o in runs if (r[1] - o) % 4096 and r[2] > 600 * 1024)
        ends = list(accumulate(n for _, n in lst.chunks))
        i = next(k for k in range(first, len(ends)) if ends[k] > at + 500 * 1024)  # past the first aligned round
        loc = packs.where[lst.chunks[i][0]]
        path = packs.path(loc.pack)
    finally:
        packs.close()
    good = tmp_path / "good.bin"
    chunkstore.place_chunked(repo.store, d, str(good), str(tmp_path / ".tmp-good"))
    assert good.read_bytes() == data
    os.chmod(path, 0o644)
    if damage == "truncate":
        os.truncate(path, loc.offset + loc.size // 2)
    else:
        with open(path, "r+b") as f:
            f.seek(loc.offset + loc.size // 2)
            b = f.read(1)
            f.seek(loc.offset + loc.size // 2)
            f.write(bytes([b[0] ^ 1]))
    problem = "is cut short" if damage == "truncate" else "is corrupt"
    with pytest.raises(CorruptObjectError, match=f"chunk {i + 1} of {len(lst.chunks)} \\({lst.chunks[i][0]}.*{problem}"):
        chunkstore.place_chunked(repo.store, d, str(tmp_path / "bad.bin"), str(tmp_path / ".tmp-bad"))
    assert not (tmp_path / "bad.bin").exists() and not (tmp_path / ".tmp-bad").exists()


CHECKOUT_LOOP = """
import os, sys
from artvcs.plumbing import chunkstore
from artvcs.plumbing.repository import Repository
repo = Repository(sys.argv[1])
out, digest = sys.argv[2], sys.argv[3]
print("ready", flush=True)
i = 0
while True:
    chunkstore.place_chunked(repo.store, digest, os.path.join(out, f"big-{i}"), os.path.join(out, f".tmp-{i}"))
    i += 1
"""


def test_a_checkout_killed_mid_copy_leaves_only_whole_files_under_their_names(repo, tmp_path):
    data = _data(24 * MiB, 3)
    d = _put(repo, tmp_path, data)
    rnd = random.Random(4)
    killed_mid_copy = 0
    for round_ in range(5):
        out = tmp_path / f"out-{round_}"
        out.mkdir()
        p = subprocess.Popen([sys.executable, "-c", CHECKOUT_LOOP, repo.gitdir, str(out), d], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.2, 0.8))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        names = os.listdir(out)
        killed_mid_copy += any(n.startswith(".tmp-") for n in names)
        for n in names:
            if n.startswith("big-"):
                assert blake3.blake3((out / n).read_bytes()).hexdigest() == d, f"{n} is not whole"
    assert killed_mid_copy, "some kill should have come while a copy was under way"
