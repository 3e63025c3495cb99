"""A checkout's large files (CHUNK_THRESHOLD and up) are copied two at a time: every one whole
under its own name, verified, and recorded against its own stat; a rotten one among them fails
the checkout and leaves nothing of itself, and nothing half-written of the others."""
from __future__ import annotations

import os
import random
import signal
import threading

import blake3
import pytest

from artvcs.plumbing import checkout, chunkstore, copyhash, placefile
from artvcs.plumbing.checkout import materialize, verify_folder
from artvcs.plumbing.errors import CorruptObjectError, StoppedError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.statcache import StatCache
from artvcs.plumbing.store import CHUNK_THRESHOLD
from test_chunk_reads import rot_last_chunk
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


def test_the_first_failure_stops_every_file_not_started_and_is_the_one_raised(repo, tmp_path, monkeypatch):
    """Eight large files, largest first, two at a time: the largest (index 0, rotten too) is held at
    its start until the second (a chunked file with a rotten chunk) has failed. No further file may
    start after that failure, the held one stops instead of copying, and the error raised is the
    chunked file's (the first to happen), not the lowest-index one's."""
    monkeypatch.setattr(checkout, "LARGE_WORKERS", 2)
    entries = []
    for i in range(8):
        data = random.Random(i).randbytes(CHUNK_THRESHOLD + (8 - i) * 65536)  # index order is size order
        if i == 1:
            (tmp_path / "src").write_bytes(data)
            digest, _ = repo.store.put_file(str(tmp_path / "src"), chunked=True)
            rot_last_chunk(repo, digest)
        else:
            digest = repo.store.put_bytes(data)
        entries.append(Entry(f"big{i}.bin", digest, len(data)))
    rot(repo, entries[0].digest, offset=100)
    root = tmp_path / "out"
    started: list[str] = []
    failed, another = threading.Event(), threading.Event()
    real_place, real_chunked = checkout.place, chunkstore.place_chunked

    def place(mode, src, target, *args, **kwargs):
        name = os.path.basename(target)
        if not os.path.exists(src):  # (a chunked file has no whole store file: place_chunked follows)
            return real_place(mode, src, target, *args, **kwargs)
        started.append(name)
        if name == "big0.bin":  # held until big1 failed, and then until another file starts (or 1 s)
            assert failed.wait(30)
            another.wait(1.0)
        else:
            another.set()
        return real_place(mode, src, target, *args, **kwargs)

    def place_chunked(store, digest, target, *args, **kwargs):
        started.append(os.path.basename(target))
        try:
            return real_chunked(store, digest, target, *args, **kwargs)
        except CorruptObjectError:
            failed.set()
            raise

    monkeypatch.setattr(checkout, "place", place)
    monkeypatch.setattr(chunkstore, "place_chunked", place_chunked)
    with pytest.raises(CorruptObjectError) as err:
        materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert "'big1.bin'" in str(err.value) and "chunk" in str(err.value)
    assert sorted(started) == ["big0.bin", "big1.bin"]
    assert [n for n in leftovers(root) if n.startswith("big")] == []  # (the held one stopped at its first step)
    assert not [n for n in leftovers(root) if ".artvcs-tmp-" in n]


class StopAfter(threading.Event):
    """A stop flag that turns set at its ``k``-th check (a copy checks it at each step boundary):
    a stop that arrives mid-copy, at a known step. ``sizes`` records what the temporary files
    held then."""

    def __init__(self, k: int, folder) -> None:
        super().__init__()
        self.k, self.checks, self.folder, self.sizes = k, 0, folder, []

    def is_set(self) -> bool:
        self.checks += 1
        if self.checks == self.k:
            self.sizes = [os.path.getsize(self.folder / n) for n in os.listdir(self.folder) if ".artvcs-tmp-" in n]
            self.set()
        return super().is_set()


@pytest.mark.parametrize("how", ["whole", "whole-no-verify", "chunked"])
@pytest.mark.parametrize("present", [False, True], ids=["new", "over-old"])
def test_a_stop_mid_copy_ends_it_at_that_step_leaving_no_temporary_file_and_no_part(repo, tmp_path, monkeypatch,
                                                                                      how, present):
    step = 1024 * 1024
    for mod in (copyhash, placefile, chunkstore):  # steps of 1 MiB: a 6 MiB file is six of them
        monkeypatch.setattr(mod, "STEP", step)
    data = random.Random(7).randbytes(6 * step + 12345)
    if how == "chunked":
        (tmp_path / "src").write_bytes(data)
        digest, _ = repo.store.put_file(str(tmp_path / "src"), chunked=True)
    else:
        digest = repo.store.put_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "big.bin"
    if present:
        target.write_bytes(b"the old version\n")
    stop = StopAfter(3, out)
    with pytest.raises(StoppedError):
        if how == "chunked":
            chunkstore.place_chunked(repo.store, digest, str(target), placefile.tmp_beside(str(target)), stop)
        else:
            verified = how == "whole"
            placefile.place("copy", repo.store.path_of(digest), str(target), present,
                            digest if verified else None, len(data), stop)
    assert stop.checks == 3  # the first check after the stop ended it
    assert stop.sizes and 0 < stop.sizes[0] < len(data)  # it was under way: part written, under a temporary name
    assert os.listdir(out) == (["big.bin"] if present else [])
    if present:
        assert target.read_bytes() == b"the old version\n"


def test_an_interrupt_stops_both_large_copies_under_way_within_a_step(repo, tmp_path, monkeypatch):
    """Ctrl-C (a real SIGINT to the main thread) while two large files are being copied: both copies
    end at their next step, remove their temporary files, and KeyboardInterrupt goes up; the files
    not started never start."""
    step = 1024 * 1024
    monkeypatch.setattr(copyhash, "STEP", step)
    monkeypatch.setattr(checkout, "LARGE_WORKERS", 2)
    entries = []
    for i in range(4):
        data = random.Random(i).randbytes(8 * step + (4 - i) * 65536)
        entries.append(Entry(f"big{i}.bin", repo.store.put_bytes(data), len(data)))
    stops: dict[int, threading.Event] = {}
    steps: list[int] = []
    both = threading.Barrier(2)
    real_place, real_step = checkout.place, copyhash._copy_step

    def place(*args):
        stops[threading.get_ident()] = args[-1]  # the stop flag the checkout hands each copy
        return real_place(*args)

    def copy_step(src_fd, dst_fd, off):
        n = real_step(src_fd, dst_fd, off)
        steps.append(n)
        if off == 0:  # both copies a step in: interrupt, and go on once the checkout has raised the stop
            if both.wait(30) == 0:
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            assert stops[threading.get_ident()].wait(30)
        return n

    monkeypatch.setattr(checkout, "place", place)
    monkeypatch.setattr(copyhash, "_copy_step", copy_step)
    root = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert steps == [step, step]  # one step each, of eight
    assert sorted(stops) and len(stops) == 2  # the two smaller files never started
    assert [n for n in leftovers(root) if n.startswith("big") or ".artvcs-tmp-" in n] == []
