"""Chunked large files on a remote (a folder and a real SeaweedFS server): only missing chunks travel,
in packs, verified, resumable; hostile lists and packs are refused; remote gc counts chunk references."""
from __future__ import annotations

import os
import random

import blake3
import pytest

from artvcs.sync import remote_gc
from artvcs.plumbing import chunklist, chunkstore
from artvcs.plumbing.errors import CorruptObjectError, ObjectMissingError
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.remote import chunks as remote_chunks
from artvcs.plumbing.remote import layout
from artvcs.plumbing.remote.errors import RemoteFormatError
from remote_helpers import Counting, pushed_big
from remote_helpers import random_bytes as _data
from remote_helpers import write_big as _big

MiB = 1 << 20


def _stored(project) -> int:
    """Bytes of the store: whole files, chunk packs and lists."""
    total = 0
    for sub in ("content", "chunks", "chunklists"):
        for r, _, fs in os.walk(os.path.join(project.repo.gitdir, sub)):
            total += sum(os.path.getsize(os.path.join(r, f)) for f in fs)
    return total


def _edit(data: bytes, seed: int, regions: int = 3) -> bytes:
    rnd = random.Random(seed)
    out = bytearray(data)
    for _ in range(regions):
        at = rnd.randrange(len(data) - 65536)
        out[at:at + 65536] = rnd.randbytes(65536)
    return bytes(out)


def test_push_sends_only_missing_chunks_in_few_requests_and_clone_rebuilds(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    data = _data(12 * MiB, 1)
    d0 = _big(a, data)
    a.log({"small.txt": "small"})
    store = a.repo.store
    assert os.path.isfile(store.path_of(d0)) and not store.is_chunked(d0)  # a new large file: logged whole
    first = a.push()
    assert first.bytes >= len(data)
    remote = a.remote()
    assert remote.backend.read(layout.FORMAT_KEY)[0] == b"artvcs-remote 2\n"
    # chunked on the way: the remote holds its list and chunks, never the whole file, and so does the store now
    assert remote.backend.stat(remote_chunks.list_key(d0)) is not None
    assert remote.backend.stat(layout.content_key(d0)) is None
    assert store.is_chunked(d0) and not os.path.exists(store.path_of(d0))

    edited = _edit(data, 2)
    d1 = _big(a, edited)
    before = _stored(a)
    a.log()
    growth = _stored(a) - before
    assert growth <= 3 * 3 * 65536 + 64 * 1024  # three 64 KiB regions, each at most ~3x, plus the list
    remote.backend = Counting(remote.backend)
    from remote_helpers import pushing, sync

    second = pushing.push(a.repo, remote, sync.Selection())
    assert second.bytes <= growth + 4096  # the new chunks, their pack index and the list: no more
    # uploads: one chunk pack, the git pack and its index; writes: the chunk index, the list and the
    # push's marker (inflight/push-*, artvcs-remote-format(5)), which is its one removal
    assert remote.backend.calls.count("upload") <= 3 and remote.backend.calls.count("write") <= 2 + 1
    assert remote.backend.calls.count("remove") == 1

    b = workspace.clone("b", url, opts)
    assert b.repo.store.is_chunked(d1) and b.repo.store.is_chunked(d0)
    out = b.api().artifact("mnist:v1").download(str(workspace.root / "out"))
    assert open(os.path.join(out, "big.bin"), "rb").read() == edited
    assert fsck(b.repo, full=True) == []


def test_lazy_fetch_brings_only_the_chunks_the_store_lacks(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    data = _data(10 * MiB, 3)
    _big(a, data)
    a.log()
    edited = _edit(data, 4, regions=2)
    _big(a, edited)
    a.log()
    a.push()
    b = workspace.clone("b", url, opts, only=["mnist"])  # no content yet
    b.api().artifact("mnist:v0").download(str(workspace.root / "v0"))
    remote = b.remote()
    counted = Counting(remote.backend)
    fetched: list[int] = []
    real = counted.inner.read_range

    def read_range(key, start, length):
        fetched.append(length)
        return real(key, start, length)

    counted.inner.read_range = read_range
    got = remote_chunks.download(counted_remote(remote, counted), b.repo.store, [blake3.blake3(edited).hexdigest()])
    assert got[0] == 1 and sum(fetched) <= 2 * 3 * 65536 + 2 * 262144  # the changed regions, not 10 MiB
    assert open(os.path.join(b.api().artifact("mnist:v1").download(str(workspace.root / "v1")), "big.bin"), "rb").read() == edited


def counted_remote(remote, backend):
    remote.backend = backend
    return remote


def _tamper(remote, key: str, fn) -> None:
    data, _ = remote.backend.read(key)
    remote.backend.write(key, fn(data))


def test_a_corrupt_chunk_on_the_remote_is_refused_and_nothing_is_installed(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    d = _big(a, _data(6 * MiB, 5))
    a.log()
    a.push()
    remote = a.remote()
    (pack,) = remote_chunks.complete_packs(remote)
    _tamper(remote, remote_chunks.pack_key(pack), lambda b: b[:1000] + bytes([b[1000] ^ 1]) + b[1001:])
    b = workspace.clone("b", url, opts, only=["mnist"])
    with pytest.raises(CorruptObjectError, match="corrupt chunk"):
        b.api().artifact("mnist:v0").download(str(workspace.root / "out"))
    assert not b.repo.store.has(d)
    assert not os.path.exists(workspace.root / "out" / "big.bin")


@pytest.mark.parametrize("lie", ["size", "count", "order", "missing", "huge"])
def test_hostile_chunk_lists_are_refused_bounded(workspace, remote_spec, lie):
    url, opts = remote_spec
    data = _data(6 * MiB, 6)
    a, d = pushed_big(workspace, url, opts, data)
    remote = a.remote()
    lst = chunkstore.read_list(a.repo.store, d)
    key = remote_chunks.list_key(d)
    if lie == "size":
        body = chunklist.ChunkList(d, lst.size + 1, lst.chunks[:-1] + ((lst.chunks[-1][0], lst.chunks[-1][1] + 1),)).encode()
    elif lie == "count":
        body = f"artvcs-chunks 1 {d} {lst.size} 4000000000\n".encode()
    elif lie == "order":
        rows = list(lst.chunks)
        rows[0], rows[1] = rows[1], rows[0]
        body = chunklist.ChunkList(d, lst.size, tuple(rows)).encode()
    elif lie == "missing":
        body = chunklist.ChunkList(d, lst.size, lst.chunks[:-1] + (("00" * 32, lst.chunks[-1][1]),)).encode()
    else:
        body = lst.encode() + b"0" * (remote_chunks.MAX_LIST_BYTES + 1 - len(lst.encode()))
    remote.backend.write(key, body)
    b = workspace.clone("b", url, opts, only=["mnist"])
    kinds = {"missing": ObjectMissingError, "huge": RemoteFormatError}
    with pytest.raises(kinds.get(lie, CorruptObjectError)):
        b.api().artifact("mnist:v0").download(str(workspace.root / "out"))
    assert not b.repo.store.has(d)


def test_an_interrupted_fetch_resumes_where_it_stopped(workspace, remote_spec, monkeypatch):
    url, opts = remote_spec
    monkeypatch.setattr(remote_chunks, "RANGE_BYTES", 1 * MiB)  # several reads for one file
    monkeypatch.setattr(remote_chunks, "parallel", lambda fn, items, **kw: [fn(x) for x in items])
    data = _data(8 * MiB, 7)
    a, d = pushed_big(workspace, url, opts, data)
    b = workspace.clone("b", url, opts, only=["mnist"])
    remote = b.remote()
    real = remote.backend.read_range
    calls = []

    def flaky(key, start, length):
        calls.append(length)
        if len(calls) == 4:
            raise OSError("connection reset")
        return real(key, start, length)

    remote.backend.read_range = flaky
    with pytest.raises(OSError):
        remote_chunks.download(remote, b.repo.store, [d])
    assert not b.repo.store.has(d)
    first = sum(calls[:3])
    calls.clear()
    remote.backend.read_range = lambda key, start, length: (calls.append(length), real(key, start, length))[1]
    remote_chunks.download(remote, b.repo.store, [d])
    assert sum(calls) <= len(data) - first + 262144  # what the first run stored is not fetched again
    with b.repo.store.open(d) as f:
        assert f.read() == data


def test_gc_remote_keeps_chunks_a_live_version_shares(workspace, remote_spec, monkeypatch):
    from artvcs.plumbing import chunkpacks

    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)  # small packs: some die whole
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    data = _data(8 * MiB, 8)
    d0 = _big(a, data)
    a.log()
    a.push()
    d1 = _big(a, data[: 2 * MiB] + _data(4 * MiB, 9) + data[6 * MiB:])
    a.log()
    a.push()
    a.api().artifact("mnist:v0").delete()
    a.push()
    remote = a.remote()
    packs_before = remote_chunks.complete_packs(remote)
    kept = remote_gc.remote_gc(a.repo, remote, grace_seconds=3600)
    assert kept.removed == []
    result = remote_gc.remote_gc(a.repo, remote, grace_seconds=0)
    assert d0 in result.removed and remote.backend.stat(remote_chunks.list_key(d0)) is None
    assert set(packs_before) - set(remote_chunks.complete_packs(remote))  # dead packs gone (partly dead: rewritten)
    b = workspace.clone("b", url, opts)
    with b.repo.store.open(d1) as f:
        assert blake3.blake3(f.read()).hexdigest() == d1
    assert fsck(b.repo, full=True) == []


def test_an_older_artvcs_refuses_a_remote_with_chunks(workspace, remote_spec, monkeypatch):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    _big(a, _data(5 * MiB, 10))
    a.log()
    a.push()
    monkeypatch.setattr(layout, "FORMAT_VERSION", 1)
    with pytest.raises(RemoteFormatError, match="uses remote layout 2, newer than this artvcs \\(1\\)"):
        a.remote().check_format()


def test_two_clones_pushing_the_same_large_file_at_once_both_land(workspace, remote_spec):
    import threading

    url, opts = remote_spec
    data = _data(7 * MiB, 11)
    a = workspace.project("a", url, opts)
    b = workspace.project("b", url, opts)
    d = _big(a, data)
    _big(b, data)
    a.log({"who.txt": "a"})
    b.log({"who.txt": "b"}, name="other")
    errors: list[BaseException] = []

    def push(p) -> None:
        try:
            p.push()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=push, args=(p,)) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    c = workspace.clone("c", url, opts)
    assert c.repo.store.is_chunked(d)
    with c.repo.store.open(d) as f:
        assert f.read() == data
    assert fsck(c.repo, full=True) == []
