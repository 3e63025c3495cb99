"""Chunk packs keep their file's page phase: a run of chunks lies at the same offset within a page
in its pack as in its file, so a checkout copies whole pages (filler chunks, artvcs-format(5))."""
from __future__ import annotations

import os
import random

import blake3
import pytest

from artvcs.plumbing import chunking, chunkpacks, chunkprune, chunkstore
from artvcs.plumbing.checkout import materialize
from artvcs.plumbing.errors import CorruptObjectError
from artvcs.plumbing.manifest import Entry

MiB = 1 << 20


def _put(repo, tmp_path, data: bytes, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        digest, _ = chunkstore.store_chunked(repo.store, fd)  # (chunked whatever its size)
    finally:
        os.close(fd)
    return digest


def _runs(repo, digest: str) -> list[tuple[str, int, int, int, int]]:
    """``(pack, pack offset, length, first chunk, file offset)`` of the runs a checkout copies."""
    lst = chunkstore.read_list(repo.store, digest)
    starts = [0]
    for _, n in lst.chunks:
        starts.append(starts[-1] + n)
    packs = chunkstore.local_packs(repo.store)
    try:
        return [(p, off, n, first, starts[first]) for p, off, n, first in chunkstore._runs(packs, lst)]
    finally:
        packs.close()


def _small_packs(monkeypatch) -> None:
    """Packs of about 1 MiB, written in 1 MiB blocks: many packs, each starting mid-file."""
    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)
    monkeypatch.setattr(chunking, "BLOCK", 1 * MiB)


def _pack_rows(repo) -> dict[str, list[tuple[str, int]]]:
    packs = chunkstore.local_packs(repo.store)
    try:
        return dict(packs.packs.items())
    finally:
        packs.close()


def test_every_long_run_is_in_its_files_page_phase_and_the_fillers_cost_under_a_page_each(
        repo, tmp_path, monkeypatch):
    _small_packs(monkeypatch)  
    data = random.Random(3).randbytes(9 * MiB + 777)
    digest = _put(repo, tmp_path, data, "big.bin")
    runs = _runs(repo, digest)
    assert len(runs) >= 4
    assert all((poff - foff) % chunkpacks.PAGE == 0 for _, poff, n, _, foff in runs if n >= chunkpacks.FILL_MIN_RUN)
    rows = _pack_rows(repo)
    fillers = [(d, n) for pack in rows.values() for d, n in pack if d == chunkpacks.filler(n)[0]]
    assert 1 <= len(fillers) <= len(rows) and all(0 < n < chunkpacks.PAGE for _, n in fillers)
    folder = chunkstore.packs_dir(repo.store)
    stored = sum(os.path.getsize(os.path.join(folder, f"{p}.pack")) for p in rows)
    assert len(data) < stored < len(data) + len(rows) * chunkpacks.PAGE
    out = tmp_path / "out"
    materialize(repo.store, [Entry("big.bin", digest, len(data))], str(out), mode="copy")
    assert (out / "big.bin").read_bytes() == data
    with repo.store.open(digest) as f:
        assert f.read() == data


def test_a_filler_is_an_ordinary_chunk_its_bytes_hash_to_its_name():
    for n in (1, 100, chunkpacks.PAGE - 1):
        digest, zeros = chunkpacks.filler(n)
        assert zeros == bytes(n) and digest == blake3.blake3(zeros).hexdigest()


def test_a_corrupt_chunk_after_a_filler_is_named_with_its_file(repo, tmp_path, monkeypatch):
    _small_packs(monkeypatch)
    data = random.Random(6).randbytes(4 * MiB)
    digest = _put(repo, tmp_path, data, "big.bin")
    pack, poff, n, first, _ = next(r for r in _runs(repo, digest) if r[1] > 0)  # a run behind a filler
    lst = chunkstore.read_list(repo.store, digest)
    path = os.path.join(chunkstore.packs_dir(repo.store), f"{pack}.pack")
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(poff + 10)
        byte = f.read(1)
        f.seek(poff + 10)
        f.write(bytes([byte[0] ^ 1]))
    out = tmp_path / "out"
    c = lst.chunks[first][0]
    with pytest.raises(CorruptObjectError, match=f"'big.bin': content {digest}: chunk {first + 1} of {len(lst.chunks)} \\({c}"):
        materialize(repo.store, [Entry("big.bin", digest, len(data))], str(out), mode="copy")
    assert os.listdir(out) == []


def test_gc_rewriting_a_pack_keeps_the_phase_of_the_runs_it_moves(repo, tmp_path, monkeypatch):
    keep = random.Random(7).randbytes(3 * MiB + 1234)
    both = random.Random(8).randbytes(6 * MiB) + keep  # keep's chunks lie in both's pack, 6 MiB in
    d_both = _put(repo, tmp_path, both, "both.bin")
    d_keep = _put(repo, tmp_path, keep, "keep.bin")  # (only its first chunks are new)
    before = _runs(repo, d_keep)
    live = {d for d, _ in chunkstore.read_list(repo.store, d_keep).chunks}
    os.unlink(repo.store.list_path(d_both))
    prep = chunkprune.prepare(repo.store, live, grace_seconds=0, dry_run=False)
    assert prep.rewritten == 1
    chunkprune.finish(repo.store, prep, live, 0, False)
    after = _runs(repo, d_keep)
    assert {p for p, *_ in after} != {p for p, *_ in before}  # moved into a new pack
    moved = [r for r in after if r[2] >= chunkpacks.FILL_MIN_RUN]
    assert moved and all((poff - foff) % chunkpacks.PAGE == 0 for _, poff, _, _, foff in moved)
    assert any(foff % chunkpacks.PAGE for *_, foff in moved)  # (so a pack starting at 0 would miss it)
    with repo.store.open(d_keep) as f:
        assert f.read() == keep
