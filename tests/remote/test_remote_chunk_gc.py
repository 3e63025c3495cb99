"""gc --remote of chunk packs: partly dead packs rewritten, and a push running beside gc never left with a
list naming a chunk that no complete pack holds (a folder and a real SeaweedFS server)."""
from __future__ import annotations

import time

import blake3
import pytest

from artvcs.plumbing import chunkmidx, chunkpacks, chunkstore, packplan
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.remote import chunkgc
from artvcs.plumbing.remote import chunks as remote_chunks
from artvcs.sync import remote_gc
from remote_helpers import random_bytes as _data
from remote_helpers import write_big as _big

MiB = 1 << 20


def _interleaved(data: bytes, seed: int) -> bytes:
    """Every other 256 KiB rewritten: most packs holding the old version end up partly dead."""
    out = bytearray(data)
    for off in range(0, len(out), 512 * 1024):
        out[off:off + 256 * 1024] = _data(256 * 1024, seed + off)
    return bytes(out)


def _remote_pack_bytes(remote) -> int:
    return sum(s.size for s in remote.backend.list(remote_chunks.CHUNKS) if s.key.endswith(".pack"))


def _complete_chunks(remote, gitdir: str) -> set[str]:
    return set(remote_chunks.index(remote, gitdir).load().where)


def _pushed_then_edited(workspace, spec, seed: int):
    """Project a pushed v0 of an 8 MiB file, then v1 with every other 256 KiB of it rewritten, and
    deleted v0 (so most packs of v0 are partly dead); ``(project, d0, d1, v0 bytes)``."""
    url, opts = spec
    a = workspace.project("a", url, opts)
    v0 = _data(8 * MiB, seed)
    d0 = _big(a, v0)
    a.log()
    a.push()
    d1 = _big(a, _interleaved(v0, seed + 6))
    a.log()
    a.push()
    a.api().artifact("mnist:v0").delete()
    a.push()
    return a, d0, d1, v0


def test_gc_remote_rewrites_partly_dead_packs_and_a_clone_still_rebuilds(workspace, spec_file_s3, small_packs):
    url, opts = spec_file_s3
    a, d0, d1, _ = _pushed_then_edited(workspace, spec_file_s3, 1)
    remote = a.remote()
    live = dict(chunkstore.read_list(a.repo.store, d1).chunks)
    before = _remote_pack_bytes(remote)
    dry = remote_gc.remote_gc(a.repo, remote, grace_seconds=0, dry_run=True)
    assert dry.rewritten_packs > 0 and _remote_pack_bytes(remote) == before
    result = remote_gc.remote_gc(a.repo, remote, grace_seconds=0)
    after = _remote_pack_bytes(remote)
    print(f"\nremote packs {before} -> {after} bytes (live {sum(live.values())}), "
          f"{result.rewritten_packs} rewritten")
    assert result.rewritten_packs == dry.rewritten_packs and d0 in result.removed
    assert after - sum(live.values()) < packplan.REWRITE_DEAD_FRACTION * after
    assert set(live) <= _complete_chunks(remote, a.repo.gitdir)
    b = workspace.clone("b", url, opts)
    with b.repo.store.open(d1) as f:
        assert blake3.blake3(f.read()).hexdigest() == d1
    assert fsck(b.repo, full=True) == []
    again = remote_gc.remote_gc(a.repo, remote, grace_seconds=0)
    assert again.rewritten_packs == 0 and _remote_pack_bytes(remote) == after


def _setup_race(workspace, spec_file_s3):
    """Project a pushed v0 then v1 and deleted v0 (so the packs of v0 are partly or wholly dead);
    v2, mostly chunks of v0 that v1 dropped, is logged but not pushed."""
    a, _, d1, v0 = _pushed_then_edited(workspace, spec_file_s3, 2)
    d2 = _big(a, v0[1 * MiB:7 * MiB] + _data(64 * 1024, 5), "other.bin")  # reuses chunks of dead packs
    a.log()
    assert a.repo.store.convert_to_chunks(d2)  # a new file is logged whole: chunked as its push would
    return a, d1, d2


class _Hook:
    """Wraps a backend method so ``fn`` runs once, the first time ``when(key)`` holds, before the call."""

    def __init__(self, backend, method: str, when, fn) -> None:
        self.real, self.when, self.fn, self.fired = getattr(backend, method), when, fn, False
        setattr(backend, method, self)

    def __call__(self, key, *args, **kwargs):
        if not self.fired and self.when(key):
            self.fired = True
            self.fn()
        return self.real(key, *args, **kwargs)


def test_a_gc_that_hid_a_pack_a_push_counted_on_makes_the_push_send_it_again(workspace, spec_file_s3, small_packs):
    """The push loaded the remote's pack indexes, then a whole gc ran before it wrote its lists (the
    push's list not there yet, so the reused chunks looked dead): the push sees the packs it counted
    on lost their index and sends those chunks again."""
    a, d1, d2 = _setup_race(workspace, spec_file_s3)
    remote = a.remote()
    ran = []

    def gc() -> None:
        ran.append(chunkgc.sweep_remote(a.remote(), a.repo.gitdir, {d1}, 0, time.time(), False))

    _Hook(remote.backend, "write", lambda key: key.startswith(remote_chunks.LISTS), gc)
    remote_chunks.upload(remote, a.repo.store, [d2])
    assert ran and (ran[0].removed or ran[0].rewritten_packs)
    lst = chunkstore.read_list(a.repo.store, d2)
    assert {c for c, _ in lst.chunks} <= _complete_chunks(remote, a.repo.gitdir)
    b = workspace.project("b", *spec_file_s3)
    remote_chunks.download(b.remote(), b.repo.store, [d2])
    b.repo.store.verify(d2)


def test_a_push_that_wrote_its_list_while_gc_was_at_work_gets_the_hidden_pack_back(workspace, spec_file_s3, small_packs):
    """gc listed the lists, then a whole push ran (it counted on packs gc was about to remove, found
    them there, and wrote its list), then gc hid the packs: its second listing finds the push's list
    and puts back the index of every hidden pack holding a chunk that list needs."""
    a, d1, d2 = _setup_race(workspace, spec_file_s3)
    remote = a.remote()
    pushed = []

    def push() -> None:
        pushed.append(remote_chunks.upload(a.remote(), a.repo.store, [d2]))

    _Hook(remote.backend, "list", lambda prefix: prefix == remote_chunks.CHUNKS, push)
    result = chunkgc.sweep_remote(remote, a.repo.gitdir, {d1}, 0, time.time(), False)
    assert pushed and result.restored
    lst = chunkstore.read_list(a.repo.store, d2)
    assert {c for c, _ in lst.chunks} <= _complete_chunks(remote, a.repo.gitdir)
    b = workspace.project("b", *spec_file_s3)
    remote_chunks.download(b.remote(), b.repo.store, [d2])
    b.repo.store.verify(d2)
    d1_chunks = {c for c, _ in chunkstore.read_list(a.repo.store, d1).chunks}
    assert d1_chunks <= _complete_chunks(remote, a.repo.gitdir)


def test_a_pack_left_hidden_by_a_killed_gc_gets_its_index_back(workspace, spec_file_s3, small_packs):
    """A gc killed after hiding a pack (its index removed) that a list still needs: the next gc does
    not remove the pack, it puts its index back from the cache of indexes, and the file fetches."""
    url, opts = spec_file_s3
    a = workspace.project("a", url, opts)
    d = _big(a, _data(6 * MiB, 31))
    a.log()
    a.push()
    remote = a.remote()
    packs = remote_chunks.index(remote, a.repo.gitdir).load().packs
    hidden = sorted(packs)[0]
    remote.backend.remove(remote_chunks.idx_key(hidden))  # what step 2 of a gc left
    result = chunkgc.sweep_remote(remote, a.repo.gitdir, {d}, 0, time.time(), False)
    assert result.restored == [hidden] and remote.backend.stat(remote_chunks.pack_key(hidden)) is not None
    assert {c for c, _ in packs[hidden]} <= _complete_chunks(remote, a.repo.gitdir)
    b = workspace.clone("b", url, opts)
    b.repo.store.verify(d)
    # without the index in any cache, the pack is kept (never removed while a list needs it)
    remote.backend.remove(remote_chunks.idx_key(hidden))
    other = workspace.project("c", url, opts)
    kept = chunkgc.sweep_remote(other.remote(), other.repo.gitdir, {d}, 0, time.time(), False)
    assert remote.backend.stat(remote_chunks.pack_key(hidden)) is not None
    assert f"{remote_chunks.CHUNKS}{hidden}.pack" not in kept.removed


class _CountingReads:
    """Wraps the backend's ``read_range`` (the real one still answers) to count the bytes it returns."""

    def __init__(self, backend) -> None:
        self.real, self.bytes = backend.read_range, 0
        backend.read_range = self

    def __call__(self, key, start, length):
        data = self.real(key, start, length)
        self.bytes += len(data)
        return data


@pytest.mark.parametrize("local", ["held", "corrupt", "gone", "unlisted index unreadable", "indexes unreadable"])
def test_gc_remote_rewrites_packs_from_the_local_chunks_it_holds(workspace, spec_file_s3, small_packs, local):
    """The live chunks of a rewritten remote pack come from this repository's packs when it holds them,
    each hashed (no byte read back from the remote), and the local chunk lock is free while a new
    pack is uploaded (a local gc need not wait for the uploads); a local chunk that does not hash
    right, none at all, or local packs that cannot be read (an OSError, not only a missing file: it
    used to abort gc --remote), and they are read from the remote as before. Either way a clone
    rebuilds the file."""
    import os

    url, opts = spec_file_s3
    a, _, d1, _ = _pushed_then_edited(workspace, spec_file_s3, 3)
    remote = a.remote()
    folder = chunkstore.packs_dir(a.repo.store)
    packs = [os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".pack")]
    if local == "corrupt":  # a byte flipped in every local pack: every run has a chunk that fails its hash
        for path in packs:
            os.chmod(path, 0o644)
            with open(path, "r+b") as f:
                for off in range(1000, os.path.getsize(path), 8192):
                    f.seek(off)
                    byte = f.read(1)
                    f.seek(off)
                    f.write(bytes([byte[0] ^ 1]))
    elif local == "gone":
        for path in packs:
            os.unlink(path[:-len(".pack")] + ".idx")
            os.unlink(path)
    elif local == "unlisted index unreadable":  # a pack index outside the multi-pack index is read at once:
        os.mkdir(os.path.join(folder, "ab" * 20 + ".idx"))  # it opens as a directory (IsADirectoryError)
    elif local == "indexes unreadable":  # those it lists are read when a chunk is looked up
        assert chunkmidx.FILENAME in os.listdir(folder)
        for path in packs:
            os.unlink(path[:-len(".pack")] + ".idx")
            os.mkdir(path[:-len(".pack")] + ".idx")
    reads = _CountingReads(remote.backend)
    uploads = _LockFreeUploads(remote.backend, folder)
    result = remote_gc.remote_gc(a.repo, remote, grace_seconds=0)
    assert result.rewritten_packs > 0
    print(f"\n{local}: {result.rewritten_packs} remote packs rewritten, {reads.bytes} bytes read from the remote")
    assert uploads.count > 0 and uploads.locked == 0
    if local == "held":
        assert reads.bytes == 0
    else:
        assert reads.bytes > 0
    live = dict(chunkstore.read_list(a.repo.store, d1).chunks)
    assert set(live) <= _complete_chunks(remote, a.repo.gitdir)
    b = workspace.clone("b", url, opts)
    with b.repo.store.open(d1) as f:
        assert blake3.blake3(f.read()).hexdigest() == d1
    assert fsck(b.repo, full=True) == []


class _LockFreeUploads:
    """Wraps the backend's ``upload`` (the real one still runs) to count the uploads made while the
    local chunk lock cannot be taken exclusively (someone holds it shared)."""

    def __init__(self, backend, folder: str) -> None:
        self.real, self.folder, self.count, self.locked = backend.upload, folder, 0, 0
        backend.upload = self

    def __call__(self, key, path):
        self.count += 1
        with chunkpacks.exclusive(self.folder, 0) as taken:
            self.locked += not taken
        return self.real(key, path)
