"""Chunked files against a damaged or lying remote, and push and fetch killed with SIGKILL at random
instants: an error naming the file and the chunk, never wrong bytes; nothing committed lost."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import blake3
import pytest

from artvcs.plumbing import chunking, chunkpacks, chunkstore
from artvcs.plumbing.chunkpacks import encode_idx, idx_name
from artvcs.plumbing.errors import CorruptObjectError, ObjectMissingError
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.remote import chunks as remote_chunks
from remote_helpers import pushed_big
from remote_helpers import random_bytes as _data
from remote_helpers import write_big as _big

MiB = 1 << 20


@pytest.mark.parametrize("damage", ["pack-missing", "index-swapped", "index-resized", "index-misnamed"])
def test_a_damaged_or_lying_remote_pack_is_an_error_naming_file_and_chunk(workspace, spec_file_s3, damage):
    url, opts = spec_file_s3
    a, d = pushed_big(workspace, url, opts, _data(6 * MiB, 21))
    remote = a.remote()
    lst = chunkstore.read_list(a.repo.store, d)
    (pack,) = remote_chunks.complete_packs(remote)
    rows = remote_chunks.index(remote, a.repo.gitdir).load().packs[pack]
    body, _ = remote.backend.read(remote_chunks.pack_key(pack))
    if damage == "pack-missing":
        remote.backend.remove(remote_chunks.pack_key(pack))
        kind, named = ObjectMissingError, f"content {d}: chunk 1 of {len(lst.chunks)} \\({rows[0][0]}\\)"
    elif damage == "index-misnamed":  # the index changed under its name
        idx = bytearray(encode_idx(rows))
        idx[-3] = ord("0") if idx[-3] != ord("0") else ord("1")
        remote.backend.write(remote_chunks.idx_key(pack), bytes(idx))
        kind, named = CorruptObjectError, f"chunk pack index {pack} does not hash to its name"
    else:  # a well-formed index, named by its own hash, that lies about where the chunks are
        lying = list(rows)
        if damage == "index-swapped":  # two chunks of different sizes swapped: offsets shift
            lying[2], lying[3] = lying[3], lying[2]
            kind, named = CorruptObjectError, f"corrupt chunk {rows[3][0]} .* of content {d}: chunk 4 of"
        else:  # one chunk one byte longer, its neighbour one shorter
            lying[2], lying[3] = (rows[2][0], rows[2][1] + 1), (rows[3][0], rows[3][1] - 1)
            kind, named = CorruptObjectError, f"chunk {rows[2][0]} of content {d} is {rows[2][1] + 1} bytes"
        assert rows[2][1] != rows[3][1]
        idx = encode_idx(lying)
        name = idx_name(idx)
        tmp = os.path.join(workspace.root, "pack")
        with open(tmp, "wb") as f:
            f.write(body)
        remote.backend.upload(remote_chunks.pack_key(name), tmp)
        remote.backend.write(remote_chunks.idx_key(name), idx)
        remote.backend.remove(remote_chunks.idx_key(pack))
        remote.backend.remove(remote_chunks.pack_key(pack))
    b = workspace.clone("b", url, opts, only=["mnist"])
    out = workspace.root / "out"
    with pytest.raises(kind, match=named):
        b.api().artifact("mnist:v0").download(str(out))
    assert not b.repo.store.has(d)
    assert not os.path.exists(out / "big.bin")


def test_a_fetch_finds_chunks_a_remote_gc_moved_to_a_new_pack(workspace, spec_file_s3, monkeypatch):
    """The pack a fetch located a chunk in is gone when it reads it (a gc rewrote it): the fetch lists
    the packs again and reads the chunk from its new pack."""
    url, opts = spec_file_s3
    data = _data(6 * MiB, 22)
    a, d = pushed_big(workspace, url, opts, data)
    b = workspace.clone("b", url, opts, only=["mnist"])
    remote = b.remote()
    (pack,) = remote_chunks.complete_packs(remote)
    real = remote.backend.read_range

    def moved(key, start, length):  # what a gc's rewrite does between the fetch's listing and its read
        if key == remote_chunks.pack_key(pack):
            body, _ = remote.backend.read(key)
            rows = remote_chunks.index(remote, b.repo.gitdir).load().packs[pack]
            idx = encode_idx(list(reversed(rows)))
            out, off, pieces = idx_name(idx), 0, {}
            for c, n in rows:
                pieces[c] = body[off:off + n]
                off += n
            tmp = os.path.join(workspace.root, "moved")
            with open(tmp, "wb") as f:
                f.write(b"".join(pieces[c] for c, _ in reversed(rows)))
            remote.backend.upload(remote_chunks.pack_key(out), tmp)
            remote.backend.write(remote_chunks.idx_key(out), idx)
            remote.backend.remove(remote_chunks.idx_key(pack))
            remote.backend.remove(remote_chunks.pack_key(pack))
            remote.backend.read_range = real
        return real(key, start, length)

    remote.backend.read_range = moved
    remote_chunks.download(remote, b.repo.store, [d])
    with b.repo.store.open(d) as f:
        assert f.read() == data


# -- SIGKILL --------------------------------------------------------------------------------------
PUSHER = textwrap.dedent(
    """
    import os, sys
    from artvcs.plumbing import chunkpacks
    chunkpacks.PACK_BYTES = 1 << 20  # many packs, many requests: more instants to be killed at
    from artvcs.plumbing.repository import Repository
    from artvcs.sync import pushing, remotes, sync
    repo = Repository(sys.argv[1])
    remote = remotes.open_remote(repo, None)
    print("ready", flush=True)
    pushing.push(repo, remote, sync.Selection.of(()))
    print("done", flush=True)
    """
)

PULLER = textwrap.dedent(
    """
    import os, sys
    from artvcs.plumbing import chunkpacks
    chunkpacks.PACK_BYTES = 1 << 20
    from artvcs.plumbing.remote import chunks
    chunks.RANGE_BYTES = 256 * 1024  # many reads: more instants to be killed at
    from artvcs.plumbing.repository import Repository
    from artvcs.sync import remotes, sync
    repo = Repository(sys.argv[1])
    remote = remotes.open_remote(repo, None)
    print("ready", flush=True)
    sync.pull(repo, remote, sync.Selection.of(()), with_content=True)
    print("done", flush=True)
    """
)


def _kill_at_random(script: str, gitdir: str, rnd: random.Random, longest: float | None) -> float | None:
    """Run ``script`` and SIGKILL it at a random instant within ``longest`` seconds of its start (None:
    let it finish); the seconds it took when it finished, else None."""
    p = subprocess.Popen([sys.executable, "-c", script, gitdir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "ready", p.stderr.read()
    start = time.monotonic()
    if longest is None:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "done" in out, err
        return time.monotonic() - start
    time.sleep(rnd.uniform(0.0, longest))
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    return time.monotonic() - start if "done" in p.stdout.read() else None


def _remote_invariant(remote, gitdir: str) -> None:
    """Every chunk every remote list names is in a complete pack (artvcs-remote-format(5) INVARIANTS)."""
    held = set(remote_chunks.index(remote, gitdir).load().where)
    for st in remote.backend.list(remote_chunks.LISTS):
        lst = remote_chunks.read_remote_list(remote, st.key[len(remote_chunks.LISTS):].replace("/", ""))
        assert {c for c, _ in lst.chunks} <= held, st.key


def _clean(repo, lazy: bool = False) -> None:
    """fsck finds nothing wrong (a lazy clone may lack content it has not fetched yet)."""
    allowed = ("stale-temp", "missing-content") if lazy else ("stale-temp",)
    assert [p for p in fsck(repo, full=True) if p.kind not in allowed] == []
    for d in chunkstore.iter_lists(repo.store):  # a list present means its file rebuilds
        repo.store.verify(d)


def test_sigkill_during_push_and_fetch_of_chunked_versions(workspace, spec_file_s3, monkeypatch):
    """Each round logs a new large file and pushes it, killed at a random instant within the time an
    unkilled push of the same size took (within its first half); then a clone's fetches are killed the same way. After every
    kill: fsck finds nothing wrong, every list present rebuilds its file, every remote list names
    only chunks in complete packs; a final push and pull complete it all."""
    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)
    monkeypatch.setattr(chunking, "BLOCK", 1 * MiB)
    url, opts = spec_file_s3
    a = workspace.project("a", url, opts)
    rnd = random.Random(5)
    digests = [_big(a, _data(8 * MiB, 40), "f0.bin")]
    a.log()
    took = _kill_at_random(PUSHER, a.repo.gitdir, rnd, None)  # the measure of a push
    killed = 0
    for round_ in range(1, 5):
        digests.append(_big(a, _data(8 * MiB, 40 + round_), f"f{round_}.bin"))
        a.log()
        killed += _kill_at_random(PUSHER, a.repo.gitdir, rnd, took / 2) is None
        _remote_invariant(a.remote(), a.repo.gitdir)
        _clean(a.repo)
    print(f"\npushes killed before they finished: {killed} of 4 (an unkilled one took {took:.2f} s)")
    a.push()  # a push after the kills sends the rest
    _remote_invariant(a.remote(), a.repo.gitdir)
    c = workspace.clone("c", url, opts, only=["mnist"])
    took = _kill_at_random(PULLER, c.repo.gitdir, rnd, None)  # the measure of a fetch
    b = workspace.clone("b", url, opts, only=["mnist"])
    killed = 0
    for _ in range(4):
        killed += _kill_at_random(PULLER, b.repo.gitdir, rnd, took / 2) is None
        _clean(b.repo, lazy=True)
    print(f"fetches killed before they finished: {killed} of 4 (an unkilled one took {took:.2f} s)")
    b.pull()
    for d in digests:  # every file logged before the kills is whole on the remote and in the clone
        with b.repo.store.open(d) as f:
            assert blake3.blake3(f.read()).hexdigest() == d
    assert fsck(b.repo, full=True) == []
    assert sorted(b.numbers()) == list(range(5))
